import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import apiSchema from '../../../../schemas/api.schema.json';

/**
 * The console's pages are plain browser scripts without a build step, so a list of values the API
 * defines is written out in the page; these tests hold each such list to schemas/api.schema.json.
 */
function listInPage(page: string, name: string): unknown {
  const source = readFileSync(join(__dirname, '../../ui/pages', page), 'utf8');
  const found = new RegExp(`const ${name} = (\\[[^\\]]*\\]);`).exec(source);
  if (found === null) throw new Error(`${page} has no ${name}`);
  return JSON.parse(found[1]!.replace(/'/g, '"'));
}

describe('lists in the console pages', () => {
  it("the dispatch page's trigger filter offers exactly the API's fallback triggers, in its order", () => {
    expect(listInPage('dispatch.js', 'DISPATCH_TRIGGERS')).toEqual(apiSchema.$defs.FallbackTrigger.enum);
  });

  it("the dispatch page's status filter offers exactly the API's statuses", () => {
    expect(listInPage('dispatch.js', 'DISPATCH_STATUSES')).toEqual(apiSchema.$defs.ManualDispatchQuery.properties.status.enum);
  });
});
