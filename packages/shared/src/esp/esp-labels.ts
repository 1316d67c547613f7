import type { EspType } from '../entities/esp-connection.entity';

const ESP_LABELS: Record<EspType, string> = {
  beehiiv: 'beehiiv',
  kit: 'Kit',
  mailchimp: 'Mailchimp',
};

/** The vendor's name as owners know it, for messages (both services say it the same way). */
export function espLabel(espType: EspType): string {
  return ESP_LABELS[espType];
}
