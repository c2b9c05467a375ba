export * from './job.js';
export * from './states.js';
export * from './errors.js';
export * from './time-expression.js';
export * from './retry-policy.js';
export * from './schedule-request.js';
export * from './cron.js';
export * from './dependencies.js';
