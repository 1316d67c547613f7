export * from './database';
export * from './keys';
export * from './ports';
export * from './queues';
export * from './service-env';
export * from './service-process';
export * from './wait-for';
export * from './fake-esp';
