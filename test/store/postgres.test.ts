import { runStoreContract } from './contract.js';
import { openTestStore } from './postgres-helpers.js';

runStoreContract('PostgreSQL', () => openTestStore());
