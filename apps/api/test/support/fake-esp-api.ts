import { FakeAccountSpec, FakeEspServer } from '@subscribernest/testkit';
import { Response, Test } from 'supertest';
import { signIn, startTestApi, TestApi, TestApiOptions } from './test-api';

/** ESP keys of the fake accounts: none may ever appear in an answer or a log line. */
export const KEYS = {
  beehiiv: 'bh-alice-9f3c2e7a1d',
  beehiivOther: 'bh-bob-4b8e1f6c2a',
  kit: 'kit-alice-7d2a9c4e1b',
  kitOther: 'kit-carol-3e6b8d1f5c',
  mailchimp: 'mc-alice-5c1e8a3f7d-us6',
} as const;

/** The fake ESP accounts every ESP suite starts with. */
export const FAKE_ACCOUNTS: FakeAccountSpec[] = [
  {
    esp: 'beehiiv',
    apiKey: KEYS.beehiiv,
    lists: [
      { id: 'pub_weekly', name: 'Weekly', size: 120 },
      { id: 'pub_daily', name: 'Daily', size: 30 },
      { id: 'pub_faulty', name: 'Faulty', size: 10 },
    ],
  },
  { esp: 'beehiiv', apiKey: KEYS.beehiivOther, lists: [{ id: 'pub_bob', name: 'Bob', size: 5 }] },
  { esp: 'kit', apiKey: KEYS.kit, lists: [{ id: '424242', name: 'Alice on Kit', size: 50 }] },
  { esp: 'kit', apiKey: KEYS.kitOther, lists: [{ id: '515151', name: 'Carol on Kit', size: 7 }] },
  {
    esp: 'mailchimp',
    apiKey: KEYS.mailchimp,
    lists: [{ id: 'list_main', name: 'Main', size: 300 }],
  },
];

/** ESP client settings for tests: no retries, no in-process 429 waits, a short timeout. */
export function espEnv(esp: FakeEspServer): Record<string, string> {
  return {
    BEEHIIV_API_URL: esp.baseUrls.beehiiv,
    KIT_API_URL: esp.baseUrls.kit,
    MAILCHIMP_API_URL: esp.baseUrls.mailchimp,
    ESP_MAX_RETRIES: '0',
    ESP_MAX_INLINE_WAIT_MS: '0',
    ESP_REQUEST_TIMEOUT_MS: '1000',
  };
}

export interface EspTestApi {
  api: TestApi;
  esp: FakeEspServer;
  close(): Promise<void>;
}

/** The real api, its ESP base URLs pointed at a fresh fake ESP server. */
export async function startEspTestApi(options: TestApiOptions = {}): Promise<EspTestApi> {
  const esp = await FakeEspServer.start({ accounts: FAKE_ACCOUNTS });
  const api = await startTestApi({
    authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    ...options,
    env: { ...espEnv(esp), ...options.env },
  });
  return {
    api,
    esp,
    close: async () => {
      await api.close();
      await esp.stop();
    },
  };
}

/** A signed-in user, with request helpers that record every answer body. */
export class TestUser {
  private constructor(
    private readonly api: TestApi,
    readonly id: string,
    readonly token: string,
    private readonly answers: string[],
  ) {}

  static async signIn(api: TestApi, email: string, answers: string[]): Promise<TestUser> {
    const { token, user } = await signIn(api, email);
    return new TestUser(api, user.id, token, answers);
  }

  get(path: string): Test {
    return this.send(this.api.http().get(path));
  }

  delete(path: string): Test {
    return this.send(this.api.http().delete(path));
  }

  post(path: string, body?: object): Test {
    const request = this.api.http().post(path);
    return this.send(body === undefined ? request : request.send(body));
  }

  patch(path: string, body: object): Test {
    return this.send(this.api.http().patch(path).send(body));
  }

  private send(request: Test): Test {
    return request.set('authorization', `Bearer ${this.token}`).expect((response: Response) => {
      this.answers.push(response.text);
    });
  }
}
