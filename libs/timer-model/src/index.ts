export * from './clock.js';
export * from './ports.js';
export * from './pit-counter.js';
export * from './pit8254.js';
export * from './port-b.js';
export * from './state.js';
export * from './timer-device.js';
export * from './factory.js';
