export * from './model.js';
export * from './save-restore-contract.js';
