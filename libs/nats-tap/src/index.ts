export * from './subjects.js';
export * from './traffic-tap.js';
