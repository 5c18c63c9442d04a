import { describe, expect, it } from 'vitest';
import { dialAddress } from './_dial.ts';

describe('dialAddress', () => {
  it('brackets IPv6 addresses', () => {
    expect(dialAddress({ host: '::1', port: 8080 })).toBe('[::1]:8080');
    expect(dialAddress({ host: '10.0.0.1', port: 8080 })).toBe('10.0.0.1:8080');
    expect(dialAddress({ host: 'web', port: 8080 })).toBe('web:8080');
  });
});
