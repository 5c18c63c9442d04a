import { describe, expect, it } from 'vitest';
import { apiUrlOf, failsLikeStaleToken, npmMessage } from './_client.ts';

const answer = (status: number, message?: string) => ({
  status,
  data: message === undefined ? '' : { error: { code: status, message } },
});

describe('failsLikeStaleToken', () => {
  it.each([
    [answer(400, 'Token has expired'), true],
    [answer(404, 'Not Found - /nginx/proxy-hosts'), true],
    [answer(500, 'Internal Error'), true],
    [answer(403, 'Permission Denied'), true],
    [answer(401, 'Unauthorized'), true],
    [answer(400, 'data/forward_port must be <= 65535'), false],
    [answer(400, 'a.example.com is already in use'), false],
    [answer(404, 'Not Found - 12'), false],
    [answer(500, 'SQLITE_BUSY: database is locked'), false],
    [answer(502), false],
  ])('%j → %s', (given, expected) => {
    expect(failsLikeStaleToken(given)).toBe(expected);
  });
});

describe('apiUrlOf', () => {
  it.each([
    ['http://npm:81', 'http://npm:81/api'],
    ['http://npm:81/', 'http://npm:81/api'],
    ['http://npm:81/api', 'http://npm:81/api'],
    ['https://npm.example.com/api/', 'https://npm.example.com/api'],
    ['https://example.com/npm', 'https://example.com/npm/api'],
  ])('%s → %s', (url, expected) => {
    expect(apiUrlOf(url)).toBe(expected);
  });
});

describe('npmMessage', () => {
  it("takes NPM's error message, or the text, cut short", () => {
    expect(npmMessage({ error: { code: 400, message: '  Invalid\n email ' } })).toBe('Invalid email');
    expect(npmMessage('Bad Gateway')).toBe('Bad Gateway');
    expect(npmMessage(null)).toBe('');
    expect(npmMessage('x'.repeat(500))).toHaveLength(201);
  });
});
