import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { text } from './help-text.js';

describe('help text', () => {
  it('drops the outer line breaks and the common indentation, keeping paragraphs and deeper indents', () => {
    const value = 3;
    assert.equal(
      text`
        One line, ${value} values.
          indented more

        Second paragraph.
      `,
      'One line, 3 values.\n  indented more\n\nSecond paragraph.',
    );
  });
});
