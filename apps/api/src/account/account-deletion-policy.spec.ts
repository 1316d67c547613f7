import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { ConfigValidationError } from '@subscribernest/shared';
import {
  ACCOUNT_DELETION_POLICY,
  accountDeletionPolicyFrom,
  accountDeletionPolicyProvider,
  deletionDate,
} from './account-deletion-policy';

describe('accountDeletionPolicyFrom', () => {
  it('defaults to 30 days when unset or empty', () => {
    expect(accountDeletionPolicyFrom(undefined)).toEqual({ graceDays: 30 });
    expect(accountDeletionPolicyFrom('  ')).toEqual({ graceDays: 30 });
  });

  it('accepts whole numbers of days from 1 to 365', () => {
    expect(accountDeletionPolicyFrom('1')).toEqual({ graceDays: 1 });
    expect(accountDeletionPolicyFrom(' 14 ')).toEqual({ graceDays: 14 });
    expect(accountDeletionPolicyFrom(365)).toEqual({ graceDays: 365 });
  });

  it('rejects anything else with one line naming the variable, never the value', () => {
    for (const bad of ['0', '366', '-1', '1.5', '7d', 'thirty', '1e2', '0x10', true]) {
      expect(() => accountDeletionPolicyFrom(bad)).toThrow(ConfigValidationError);
      expect(() => accountDeletionPolicyFrom(bad)).toThrow(
        'Invalid configuration: ACCOUNT_DELETION_GRACE_DAYS must be a whole number of days from 1 to 365',
      );
    }
  });

  it('dates the deletion grace days after the request', () => {
    const requestedAt = new Date('2025-03-01T12:00:00.000Z');
    expect(deletionDate(requestedAt, { graceDays: 30 }).toISOString()).toBe(
      '2025-03-31T12:00:00.000Z',
    );
  });
});

describe('accountDeletionPolicyProvider', () => {
  const compile = (value: string) =>
    Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          ignoreEnvVars: true,
          load: [() => ({ ACCOUNT_DELETION_GRACE_DAYS: value })],
        }),
      ],
      providers: [accountDeletionPolicyProvider],
    }).compile();

  it('reads ACCOUNT_DELETION_GRACE_DAYS through ConfigService', async () => {
    const moduleRef = await compile('7');
    expect(moduleRef.get(ACCOUNT_DELETION_POLICY)).toEqual({ graceDays: 7 });
  });

  it('fails the start-up on a bad value', async () => {
    await expect(compile('0')).rejects.toThrow(ConfigValidationError);
  });
});
