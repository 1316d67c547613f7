import { FakeAccount, FakeAccountOptions } from './fake-account';
import { FakeAccountSpec, FakeEspType } from './fake-esp-types';
import { FakeList } from './fake-list';

/** Every account and list the server knows, by key and by (ESP, list id); validated once. */
export class FakeEspRegistry {
  readonly accounts: FakeAccount[];

  constructor(specs: readonly FakeAccountSpec[], options: FakeAccountOptions) {
    this.accounts = specs.map((spec) => {
      validate(spec);
      return new FakeAccount(spec, options);
    });
    const keys = new Set<string>();
    const lists = new Set<string>();
    for (const account of this.accounts) {
      const key = `${account.esp}:${account.apiKey}`;
      if (keys.has(key)) throw new Error(`two ${account.esp} accounts share the API key`);
      keys.add(key);
      for (const list of account.lists) {
        const id = `${account.esp}:${list.id}`;
        if (lists.has(id)) throw new Error(`two ${account.esp} lists share the id ${list.id}`);
        lists.add(id);
      }
    }
  }

  accountByKey(esp: FakeEspType, apiKey: string | undefined): FakeAccount | undefined {
    if (!apiKey) return undefined;
    return this.accounts.find((account) => account.esp === esp && account.apiKey === apiKey);
  }

  /** The list and its account; throws for an unknown one (a mistake in the test). */
  find(esp: FakeEspType, listId: string): { account: FakeAccount; list: FakeList } {
    for (const account of this.accounts) {
      const list = account.esp === esp ? account.list(listId) : undefined;
      if (list) return { account, list };
    }
    throw new Error(`fake ESP: no ${esp} list '${listId}'`);
  }
}

function validate(spec: FakeAccountSpec): void {
  if (!spec.apiKey) throw new Error(`fake ESP: a ${spec.esp} account needs an apiKey`);
  if (spec.esp === 'kit' && spec.lists.length !== 1) {
    throw new Error('fake ESP: a Kit account has exactly one list (its id is the account id)');
  }
  if (spec.esp === 'mailchimp' && !/-[a-z]+\d+$/.test(spec.apiKey)) {
    throw new Error(`fake ESP: a Mailchimp key ends in '-<dc>', e.g. 'key123-us6'`);
  }
  if (spec.beehiivPagination && spec.esp !== 'beehiiv') {
    throw new Error('fake ESP: beehiivPagination applies to beehiiv accounts only');
  }
}
