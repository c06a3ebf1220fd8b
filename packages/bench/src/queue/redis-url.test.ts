import { describe, expect, it } from 'vitest';
import { parseQueueUrl, redactSecrets } from './redis-url.js';

describe('parseQueueUrl', () => {
  it('host, port, database, password and TLS', () => {
    expect(parseQueueUrl('redis://10.0.0.5:6380', {})).toEqual({
      connection: { host: '10.0.0.5', port: 6380, db: 0 },
      display: 'redis://10.0.0.5:6380',
    });
    expect(parseQueueUrl('redis://queue.lab', {}).connection).toEqual({
      host: 'queue.lab',
      port: 6379,
      db: 0,
    });
    const secure = parseQueueUrl('rediss://bench:p%40ss%2Fw0rd@queue.lab:6390/2', {});
    expect(secure.connection).toEqual({
      host: 'queue.lab',
      port: 6390,
      db: 2,
      username: 'bench',
      password: 'p@ss/w0rd',
      tls: { servername: 'queue.lab' },
    });
    expect(secure.display).toBe('rediss://bench:***@queue.lab:6390/2');
  });

  it('takes the password from CSQ_QUEUE_PASSWORD when the URL has none', () => {
    const t = parseQueueUrl('redis://127.0.0.1:7000', { CSQ_QUEUE_PASSWORD: 'from-env' });
    expect(t.connection).toMatchObject({ password: 'from-env' });
    expect(t.display).toBe('redis://:***@127.0.0.1:7000');
  });

  it.each([
    ['http://127.0.0.1:6379', /must start with redis:\/\/ or rediss:\/\/ \(TLS\); got http:/],
    ['127.0.0.1:6379', /is not a URL; give redis:\/\/HOST:PORT/],
    ['not a url', /is not a URL; give redis:\/\/HOST:PORT/],
    ['redis://:hunter2@h:1/x', /the path must be a database number/],
  ])('refuses %s, without printing its password', (url, message) => {
    let error: Error | undefined;
    try {
      parseQueueUrl(url, {});
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('CsqError');
    expect((error as { code?: string }).code).toBe('CSQ_BAD_QUEUE_URL');
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('hunter2');
  });
});

describe('CSQ_QUEUE_CA', () => {
  it('a missing CA file is refused, naming the variable', () => {
    expect(() => parseQueueUrl('rediss://h:1', { CSQ_QUEUE_CA: '/nonexistent/ca.pem' })).toThrow(
      /CSQ_QUEUE_CA names "\/nonexistent\/ca.pem", which does not exist/,
    );
  });
});

describe('redactSecrets', () => {
  it('hides the credentials of every redis URL in a text', () => {
    expect(
      redactSecrets(
        'app --queue redis://:s3cret@h:1 and rediss://me:p@ss@h2:2/1, redis://h3:3, redis://tok@h4',
      ),
    ).toBe('app --queue redis://:***@h:1 and rediss://me:***@h2:2/1, redis://h3:3, redis://***@h4');
  });
});
