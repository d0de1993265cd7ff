// Library entry: every command is a thin layer over these.
export * from './errors.js';
export * from './profile/schema.js';
export * from "./chat/dcc.js";
