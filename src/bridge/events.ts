/** Things a bridge reports; the CLI prints them, trace files record them, tests wait for them. */
export type BridgeEvent =
  /** `tls`: the listener hands on only clients that finished a TLS handshake. */
  | { type: 'listening'; port: string; host: string; tcpPort: number; tls?: boolean }
  /** A listener closed while the bridge goes on (a reload removed or restarted its port). */
  | { type: 'closed'; port: string }
  /** `client`: the certificate the client showed (CN and fingerprint), on a TLS session. */
  | { type: 'connect'; port: string; remote: string; outgoing?: boolean; tls?: boolean; client?: string }
  | { type: 'disconnect'; port: string; remote: string; reason: string }
  | { type: 'refused'; port: string; remote: string; reason: string }
  | { type: 'device'; port: string; state: 'open' | 'gone' | 'reopen-failed'; detail?: string }
  | { type: 'protocol'; port: string; remote: string; message: string }
  /** An outgoing connection failed or ended, and the next attempt is due in `delayMs`. */
  | { type: 'retry'; port: string; reason: string; connected: boolean; delayMs: number }
  | { type: 'data'; port: string; direction: 'read' | 'write'; bytes: Buffer };

export type EventSink = (e: BridgeEvent) => void;

export function describeEvent(e: BridgeEvent): string | undefined {
  switch (e.type) {
    case 'listening':
      return `listening on ${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.tcpPort}${e.tls ? ' (TLS)' : ''}`;
    case 'closed':
      return `${e.port}: stopped listening`;
    case 'connect': {
      const how = e.tls ? ` (TLS${e.client ? `, ${e.client}` : ''})` : '';
      return e.outgoing ? `connected to ${e.remote}${how}` : `${e.port}: connect from ${e.remote}${how}`;
    }
    case 'disconnect':
      return e.port === e.remote ? `${e.port}: disconnect (${e.reason})` : `${e.port}: disconnect ${e.remote} (${e.reason})`;
    case 'refused':
      return `${e.port}: refused ${e.remote} (${e.reason})`;
    case 'device':
      return `${e.port}: device ${e.state}${e.detail ? `: ${e.detail}` : ''}`;
    case 'protocol':
      // A client's port and its remote are one name: say it once.
      return e.port === e.remote ? `${e.port}: ${e.message}` : `${e.port}: ${e.remote}: ${e.message}`;
    case 'retry': {
      const when = `retry in ${Number((e.delayMs / 1000).toFixed(1))} s`;
      return e.connected ? `connection to ${e.port} ended: ${e.reason}; ${when}` : `connect ${e.port} failed: ${e.reason}; ${when}`;
    }
    case 'data':
      return undefined;
  }
}
