import { crossOriginRefusal } from './http-security';

const request = (method: string, headers: Record<string, string>) => ({ method, headers, protocol: 'https', host: 'svu.region.se' });

describe('crossOriginRefusal', () => {
  it('lets same-origin state changes through, by Origin or by Sec-Fetch-Site', () => {
    expect(crossOriginRefusal(request('POST', { origin: 'https://svu.region.se', cookie: 'svu_session=a' }), [])).toBeUndefined();
    expect(crossOriginRefusal(request('DELETE', { 'sec-fetch-site': 'same-origin', cookie: 'svu_session=a' }), [])).toBeUndefined();
  });

  it('refuses another origin, another scheme or port of the same host, and an opaque origin, naming it', () => {
    for (const origin of ['https://evil.example', 'http://svu.region.se', 'https://svu.region.se:444', 'null']) {
      expect(crossOriginRefusal(request('POST', { origin, cookie: 'svu_session=a' }), [])).toContain(`(${origin})`);
    }
  });

  it('refuses a cross-site or same-site request the browser marks so when it sends no Origin', () => {
    expect(crossOriginRefusal(request('PUT', { 'sec-fetch-site': 'cross-site' }), [])).toMatch(/Sec-Fetch-Site: cross-site/);
    expect(crossOriginRefusal(request('PATCH', { 'sec-fetch-site': 'same-site' }), [])).toMatch(/Sec-Fetch-Site: same-site/);
  });

  it('lets listed origins through', () => {
    expect(crossOriginRefusal(request('POST', { origin: 'https://console.region.se', 'sec-fetch-site': 'same-site' }), ['https://console.region.se'])).toBeUndefined();
  });

  it('checks no safe method, and no bearer-token call without a session cookie', () => {
    expect(crossOriginRefusal(request('GET', { origin: 'https://evil.example' }), [])).toBeUndefined();
    expect(crossOriginRefusal(request('POST', { origin: 'https://evil.example', authorization: 'Bearer abc' }), [])).toBeUndefined();
    // With the cookie too, a browser may have sent it: checked.
    expect(crossOriginRefusal(request('POST', { origin: 'https://evil.example', authorization: 'Bearer abc', cookie: 'svu_session=a' }), [])).toBeDefined();
  });
});
