import { attemptDetail, endpointOf, responseStart } from './attempt-detail';
import { httpOutcome, withAttempt } from './outcome';

describe('endpointOf', () => {
  it('keeps scheme, host, port and path; drops user, password, query and fragment', () => {
    expect(endpointOf('https://user:secret@svu.example.se:8443/in/svu?key=abc#x')).toBe('https://svu.example.se:8443/in/svu');
    expect(endpointOf('http://127.0.0.1:9/u')).toBe('http://127.0.0.1:9/u');
    expect(endpointOf('not a url')).toBe('(not a URL)');
  });
});

describe('responseStart', () => {
  it('is the first 200 bytes as text, cut with …, identity numbers masked, control characters replaced', () => {
    expect(responseStart(Buffer.from('bad patient 19410708-6995\u0000'))).toBe('bad patient ********-****\uFFFD');
    const long = responseStart(Buffer.from('x'.repeat(300)));
    expect(long).toBe(`${'x'.repeat(200)}…`);
    expect(responseStart(Buffer.alloc(0))).toBeUndefined();
    expect(responseStart(undefined)).toBeUndefined();
  });

  it('drops a character the limit cut in two', () => {
    expect(responseStart(Buffer.from(`${'x'.repeat(199)}å and more`))).toBe(`${'x'.repeat(199)}…`);
  });
});

describe('attemptDetail and withAttempt', () => {
  it('says where a failed attempt went and what came back; a delivery carries nothing', () => {
    const detail = attemptDetail('http://h/u', 400, Buffer.from('nope'));
    expect(detail).toEqual({ endpoint: 'http://h/u', status: 400, responseStart: 'nope' });
    expect(attemptDetail('http://h/u')).toEqual({ endpoint: 'http://h/u' });
    expect(withAttempt(httpOutcome(400), detail)).toEqual({ kind: 'permanent', error: 'HTTP 400', attempt: detail });
    expect(withAttempt(httpOutcome(200), detail)).toEqual({ kind: 'delivered' });
  });
});
