import { alternate, describeSpread, median, spreadOf, type Version } from '../../bench/baseline';

describe('side-by-side benchmark figures', () => {
  it('gives the lowest and highest ratio of rounds that ran next to each other', () => {
    const { low, high } = spreadOf([100, 200, 150], [110, 150, 150]);
    expect(low).toBeCloseTo(0.75);
    expect(high).toBeCloseTo(1.1);
  });

  it('tells rounds that overlap from rounds that lie apart', () => {
    expect(spreadOf([10.9, 8.7, 11.8], [12.2, 14.2, 17.0]).apart).toBe('current higher');
    expect(spreadOf([1600, 2000], [1400, 1500]).apart).toBe('current lower');
    expect(spreadOf([1600, 2000], [1500, 1800]).apart).toBe('overlapping');
    // Touching at one value is not apart.
    expect(spreadOf([10, 12], [12, 13]).apart).toBe('overlapping');
    // A single round of each always lies apart, which tells nothing.
    expect(spreadOf([10], [12]).apart).toBe('one round each');
  });

  it('says it in a clause of the printed line', () => {
    expect(describeSpread([10, 11], [12, 13])).toBe('ratios of rounds next to each other 1.182-1.200, every round of this version above every round of the baseline');
    expect(describeSpread([10, 14], [12, 13])).toBe('ratios of rounds next to each other 0.929-1.200, the rounds overlap');
    expect(describeSpread([10], [12])).toBe('ratios of rounds next to each other 1.200-1.200, one round each');
  });

  it('refuses sets of rounds that do not pair up', () => {
    expect(() => spreadOf([1, 2], [1])).toThrow(/as many rounds/);
    expect(() => spreadOf([], [])).toThrow(/at least one/);
  });

  it('pairs round i of each version: alternate runs them back to back, switching which goes first', async () => {
    const a: Version = { name: 'a', root: '/a' };
    const b: Version = { name: 'b', root: '/b' };
    const order: string[] = [];
    const results = await alternate([a, b], 3, (version, i) => {
      order.push(`${version.name}${i}`);
      return Promise.resolve(i);
    });
    expect(order).toEqual(['a0', 'b0', 'b1', 'a1', 'a2', 'b2']);
    expect(results.get(a)).toEqual([0, 1, 2]);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});
