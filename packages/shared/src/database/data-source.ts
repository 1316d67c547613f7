import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

// The TypeORM CLI (`npm run migration:run` from the root) loads this file. It reads DATABASE_URL
// from the environment, falling back to the repository's .env so the scripts work without export.
const rootEnv = resolve(__dirname, '../../../../.env');
if (!process.env.DATABASE_URL && existsSync(rootEnv)) loadDotenv({ path: rootEnv, quiet: true });

if (!process.env.DATABASE_URL) {
  process.stderr.write(
    'Invalid configuration: DATABASE_URL is required (set it or copy .env.example to .env)\n',
  );
  process.exit(1);
}

export default new DataSource(dataSourceOptions(process.env.DATABASE_URL));
