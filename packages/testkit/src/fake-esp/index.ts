export * from './cli-options';
export * from './fake-esp-server';
export * from './fake-esp-types';
export * from './fake-rate-limits';
export * from './request-hold';
