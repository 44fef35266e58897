// Tests for the walk-name rules on strings (the byte form is covered through the codec tests).
import { test, equal } from '../testkit/index.js';
import { nameProblem } from './names.js';

test('names: accepted and refused component strings', () => {
  equal(nameProblem('queen.log'), null);
  equal(nameProblem('\u{1f600}'.repeat(63)), null); // 252 bytes
  equal(nameProblem('\u{1f600}'.repeat(64)), 'name longer than 255 bytes'); // 256 bytes
  equal(nameProblem(''), 'empty name');
  equal(nameProblem('..'), "name is '..'");
  equal(nameProblem('.'), "name is '.'");
  equal(nameProblem('a/b'), "name contains '/'");
  equal(nameProblem('a\0'), 'name contains NUL');
  equal(nameProblem('a\ud800'), 'name is not valid UTF-8');
  equal(nameProblem('...'), null);
});
