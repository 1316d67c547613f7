import { JOB } from './job-names';
import {
  JOB_PAYLOAD_FIELDS,
  JobPayloadField,
  JobPayloads,
  strippedJobPayload,
} from './job-payloads';

type FieldsOf<T> = T extends unknown ? keyof T : never;
type PayloadField = FieldsOf<JobPayloads[keyof JobPayloads]>;
type Unexpected = Exclude<PayloadField, JobPayloadField>;

// Compiles only while every payload field is in JOB_PAYLOAD_FIELDS (`npm run typecheck` checks
// spec files too): a new field has to be allowed there, on purpose.
const noUnexpectedFields: [Unexpected] extends [never] ? true : Unexpected = true;

describe('job payloads', () => {
  it('carry ids, names and times only (checked by the compiler above)', () => {
    expect(noUnexpectedFields).toBe(true);
    expect(JOB_PAYLOAD_FIELDS).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/email|code$|ip|agent|key/i)]),
    );
  });

  it('send a sign-in code by its login_codes id alone', () => {
    const payload: JobPayloads[typeof JOB.loginCode] = { loginCodeId: 'id' };
    expect(Object.keys(payload)).toEqual(['loginCodeId']);
  });

  it('strip what an older release put in a payload, and leave a clean one alone', () => {
    expect(
      strippedJobPayload({
        loginCodeId: 'id',
        emailEncrypted: 'v1.k1.a.b',
        codeEncrypted: 'v1.k1.c.d',
        expiresAt: '2026-12-01T00:00:00Z',
      }),
    ).toEqual({ loginCodeId: 'id' });
    expect(strippedJobPayload({ userId: 'u', sessionId: 's' })).toBeNull();
    expect(strippedJobPayload('text')).toBeNull();
    expect(strippedJobPayload(null)).toBeNull();
  });
});
