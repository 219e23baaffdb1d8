export * from './api';
export * from './errors';
export * from './system';
export * from './backend';
