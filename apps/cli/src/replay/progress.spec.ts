import { Writable } from 'node:stream';
import { Progress } from './progress';

function capture(isTTY: boolean) {
  let text = '';
  const stream = Object.assign(new Writable({ write: (chunk: Buffer, _e, cb) => ((text += chunk.toString()), cb()) }), { isTTY, columns: 80 });
  return { stream, text: () => text };
}

describe('replay progress', () => {
  it('redraws one bar in place on a terminal', () => {
    const out = capture(true);
    const progress = new Progress(out.stream, 4);
    progress.step(1, 'send a');
    progress.step(2, 'send b');
    progress.done();
    expect(out.text()).toBe('\r\x1b[2K[########......................] 1/4 send a\r\x1b[2K[###############...............] 2/4 send b\n');
  });
  it('writes plain lines elsewhere', () => {
    const out = capture(false);
    const progress = new Progress(out.stream, 2);
    progress.step(1, 'send a');
    progress.step(2, 'check b');
    progress.done();
    expect(out.text()).toBe('1/2 send a\n2/2 check b\n');
  });
});
