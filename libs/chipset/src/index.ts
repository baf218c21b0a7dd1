export * from './ports.js';
export * from './state-reader.js';
export * from './uart16550.js';
export * from './ram-layout.js';
export * from './cmos-rtc.js';
