/**
 * The demo page's markup, without a browser: what it tells a reader about units. The Compare view
 * puts methods with different units side by side, so each map gets its own scale; the Integrated
 * Gradients section shows logits next to the prediction's probabilities, so it says which is which.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const page = await readFile('demo/index.html', 'utf8');
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('demo/index.html', () => {
  it('<xai-compare> scales each method on its own (scale-mode="per-map") and says why', () => {
    const compare = /<xai-compare [^>]*>/.exec(page)![0];
    expect(compare).toContain('scale-mode="per-map"');
    const section = text(page.slice(page.indexOf('id="compare-title"'), page.indexOf('<xai-compare')));
    expect(section).toMatch(/each on its own colour scale .* their units differ/);
  });

  it('the Integrated Gradients completeness check names its scores logits, not probabilities', () => {
    const section = text(page.slice(page.indexOf('id="ig-title"'), page.indexOf('data-method="filters"')));
    expect(section).toMatch(/Logit of the picture − logit of the baseline/);
    expect(section).toMatch(/these scores are logits, not the probabilities of the prediction above/);
  });
});
