import { createHash } from 'node:crypto';
import { FakeEspType, FakeSubscriberView } from './fake-esp-types';
import { FakeList } from './fake-list';
import { SubscriberState } from './subscriber-generator';

/** Kit subscriber ids are 1_000_000 + index, so later subscribers have higher ids. */
export const KIT_ID_OFFSET = 1_000_000;

export function beehiivSubscriptionId(list: FakeList, index: number): string {
  return `sub_${list.generator.uuid(index)}`;
}

export function kitSubscriberId(index: number): number {
  return KIT_ID_OFFSET + index;
}

/** Mailchimp's member id: the MD5 hash of the lower-case email. */
export function mailchimpMemberId(email: string): string {
  return createHash('md5').update(email.toLowerCase()).digest('hex');
}

/** The vendor's id of subscriber `index`, as a string. */
export function externalIdOf(esp: FakeEspType, list: FakeList, index: number): string {
  switch (esp) {
    case 'beehiiv':
      return beehiivSubscriptionId(list, index);
    case 'kit':
      return String(kitSubscriberId(index));
    case 'mailchimp':
      return mailchimpMemberId(list.generator.identity(index).email);
  }
}

/** Our status, or 'other' for one we do not sync; Kit's 'complained' counts as unsubscribed. */
export function viewStatus(state: SubscriberState): FakeSubscriberView['status'] {
  return state === 'complained' ? 'unsubscribed' : state;
}
