import { JOB } from './job-names';
import { JobPayloads } from './job-payloads';

/**
 * Every field any job payload may carry: ids, enums and times, nothing that names or reaches a
 * person. A new field fails to compile here until it is added below, which is the moment to ask
 * whether it belongs in Redis at all (addresses, codes, IPs, user agents and keys never do, not
 * even encrypted).
 */
type AllowedField =
  | 'eventId'
  | 'espConnectionId'
  | 'userId'
  | 'syncRunId'
  | 'sessionId'
  | 'loginCodeId'
  | 'cronRunId'
  | 'trigger'
  | 'name'
  | 'requestedBy'
  | 'requestedAt';

type FieldsOf<T> = T extends unknown ? keyof T : never;
type PayloadField = FieldsOf<JobPayloads[keyof JobPayloads]>;
type Unexpected = Exclude<PayloadField, AllowedField>;

// Compiles only while Unexpected is empty (`npm run typecheck` checks spec files too).
const noUnexpectedFields: [Unexpected] extends [never] ? true : Unexpected = true;

describe('job payloads', () => {
  it('carry ids, names and times only (checked by the compiler above)', () => {
    expect(noUnexpectedFields).toBe(true);
  });

  it('send a sign-in code by its login_codes id alone', () => {
    const payload: JobPayloads[typeof JOB.loginCode] = { loginCodeId: 'id' };
    expect(Object.keys(payload)).toEqual(['loginCodeId']);
  });
});
