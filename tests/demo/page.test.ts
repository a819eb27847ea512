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

  it('tells the story in three parts, local, global and faithful, linked from the top', () => {
    for (const part of ['local', 'global', 'faithful']) {
      expect(page).toContain(`<a href="#${part}">`);
      expect(page).toContain(`id="${part}"`);
    }
    expect(page.indexOf('id="local"')).toBeLessThan(page.indexOf('id="global"'));
    expect(page.indexOf('id="global"')).toBeLessThan(page.indexOf('id="faithful"'));
  });

  it('the faithfulness view says in one sentence how to read deletion and insertion AUCs', () => {
    const section = text(page.slice(page.indexOf('id="faithful-title"'), page.indexOf('id="faithfulness"')));
    expect(section).toMatch(/How to read them: .* a lower deletion AUC \(area under the curve\) and a higher insertion AUC mean a more faithful map\./);
  });
});
