export * from './request.js';
export * from './stream.js';
export * from './errors.js';
export * from './provider.js';
