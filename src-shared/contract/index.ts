export * from './api';
export * from './backend';
export * from './datasets';
export * from './errors';
export * from './report';
export * from './runs';
export * from './studies';
export * from './system';
