// Demo: the shared ESP clients validate, count and pull every list the fake ESP CLI serves
// (its fixed demo keys), printing a few masked addresses. Secrets never reach the output.
const { createEspClientRegistry, maskEmail } = require('@subscribernest/shared');
const { FAKE_ESP_DEMO_KEYS } = require('@subscribernest/testkit');

async function main() {
  const base = process.env.FAKE_ESP_URL;
  const registry = createEspClientRegistry({
    BEEHIIV_API_URL: `${base}/beehiiv/v2`,
    KIT_API_URL: `${base}/kit/v4`,
    MAILCHIMP_API_URL: `${base}/mailchimp/{dc}/3.0`,
  });
  for (const espType of ['beehiiv', 'kit', 'mailchimp']) {
    const client = registry.get(espType);
    const apiKey = FAKE_ESP_DEMO_KEYS[espType];
    const [list] = await client.listPublications(apiKey);
    const credentials = { apiKey, publicationId: list.id };
    const validation = await client.validate(credentials);
    if (!validation.ok) throw validation.error;
    const started = Date.now();
    let pulled = 0;
    const sample = [];
    for await (const page of client.streamSubscribers(credentials, null)) {
      pulled += page.subscribers.length;
      for (const s of page.subscribers)
        if (sample.length < 3) sample.push(`${maskEmail(s.email)} (${s.status})`);
    }
    const count = await client.countSubscribers(credentials);
    console.log(
      `${espType.padEnd(9)} "${validation.publicationName}" (${list.id}): ${count} at the ESP, ` +
        `${pulled} pulled in ${Date.now() - started} ms; e.g. ${sample.join(', ')}`,
    );
  }
}

main().catch((error) => {
  console.error(`demo: ${error.message}`);
  process.exit(1);
});
