/**
 * Code page 437, the character set of the VGA ROM fonts, mapped to Unicode so text-mode
 * screens can be read as strings. 00h shows as a space (it is a blank glyph).
 */
const ROWS = [
  ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼',
  '►◄↕‼¶§▬↨↑↓→←∟↔▲▼',
  ' !"#$%&\'()*+,-./',
  '0123456789:;<=>?',
  '@ABCDEFGHIJKLMNO',
  'PQRSTUVWXYZ[\\]^_',
  '`abcdefghijklmno',
  'pqrstuvwxyz{|}~⌂',
  'ÇüéâäàåçêëèïîìÄÅ',
  'ÉæÆôöòûùÿÖÜ¢£¥₧ƒ',
  'áíóúñÑªº¿⌐¬½¼¡«»',
  '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐',
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧',
  '╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀',
  'αßΓπΣσµτΦΘΩδ∞φε∩',
  '≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0',
];

/** CP437_TO_UNICODE[b] is the character a VGA shows for byte b. */
export const CP437_TO_UNICODE: readonly string[] = ROWS.flatMap((row) => Array.from(row));

export function cp437ToString(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += CP437_TO_UNICODE[bytes[i] & 0xff];
  return s;
}
