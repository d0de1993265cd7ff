// Library entry: every command is a thin layer over these.
export * from './errors.js';
export * from './profile/schema.js';
export * from "./chat/dcc.js";
export * from './yaml/load.js';
export * from './profile/load.js';
export * from './profile/pppd-options.js';
export * from './render/block.js';
export * from './render/secrets.js';
export * from './render/render.js';
export * from './render/write.js';
export * from './render/generate.js';
export * from './profile/check.js';
export * from './profile/starter.js';
export * from './render/generate-lock.js';
