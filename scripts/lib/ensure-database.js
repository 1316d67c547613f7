// Creates the database named in the URL when it does not exist yet (CREATE DATABASE cannot run
// inside a DO block, so check first). Prints only when it creates something.
const { Client } = require('pg');

async function main(url) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      process.stderr.write(`services: created database ${name}\n`);
    }
  } finally {
    await client.end();
  }
}

main(process.argv[2]).catch((error) => {
  process.stderr.write(
    `services: cannot reach Postgres at the DATABASE_URL host: ${error.message}\n`,
  );
  process.exit(1);
});
