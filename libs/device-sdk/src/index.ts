export * from './model.js';
export * from './save-restore-contract.js';
export * from './logger.js';
export * from './session.js';
export * from './device-service.js';
export * from './remote-device.js';
export * from './service-cli.js';
