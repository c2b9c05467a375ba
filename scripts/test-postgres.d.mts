// Types of scripts/test-postgres.mjs for the TypeScript tests that start a PostgreSQL of their own.
export declare const DEFAULT_URL: string;
export declare class CannotProvision extends Error {}
export interface ProvisionedControl {
  pgCtl: string;
  dataDir: string;
  logFile: string;
  uid?: number;
  gid?: number;
}
export declare function provisionPostgres(url?: string): Promise<{
  url: string;
  control: ProvisionedControl;
  folder: string;
  description: string;
}>;
export declare function postgresRequired(env?: Record<string, string | undefined>): boolean;
