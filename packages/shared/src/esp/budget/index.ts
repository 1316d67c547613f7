export * from './budget-key';
export * from './esp-budget-settings';
export * from './esp-budget-wait.metric';
export * from './esp-rate-budget';
export * from './rate-limit-headers';
export * from './redis-esp-rate-budget';
export * from './esp-request-budgets';
