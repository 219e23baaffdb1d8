export * from './api';
export * from './backend';
export * from './errors';
export * from './system';
export * from './datasets';
