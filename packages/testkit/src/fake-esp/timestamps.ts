// Module-level bindings: hot loops reading the global `Math` are ~10x slower under jest's vm.
const { floor } = Math;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/**
 * "YYYY-MM-DDTHH:MM:SS" in UTC for unix seconds, without allocating a Date: pages of a thousand
 * subscribers format thousands of timestamps (days-to-civil after Howard Hinnant).
 */
export function utcDateTime(unixSeconds: number): string {
  const seconds = floor(unixSeconds);
  const days = floor(seconds / 86_400);
  const secondOfDay = seconds - days * 86_400;
  const z = days + 719_468;
  const era = floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = floor(
    (dayOfEra - floor(dayOfEra / 1460) + floor(dayOfEra / 36_524) - floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + floor(yearOfEra / 4) - floor(yearOfEra / 100));
  const mp = floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = floor(secondOfDay / 3600);
  const minute = floor((secondOfDay % 3600) / 60);
  return (
    `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}` +
    `T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[secondOfDay % 60]}`
  );
}
