import { utcDateTime } from './timestamps';

describe('utcDateTime', () => {
  it('formats like Date#toISOString, without milliseconds', () => {
    const samples = [0, 951_782_400, 1_546_300_800, 1_709_164_799, 4_102_444_800];
    for (let n = 0; n < 2000; n++) samples.push(Math.floor(((n * 2654435761) % 4e9) - 5e8));
    for (const seconds of samples) {
      expect(utcDateTime(seconds)).toBe(new Date(seconds * 1000).toISOString().slice(0, 19));
    }
  });
});
