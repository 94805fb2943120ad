// Deterministic text generators for the tokenizer comparison (compare.mjs) and the benchmark
// corpus (bench_js.mjs). Everything derives from a seeded PRNG, so runs are reproducible.

export function Prng(seed) {
  let a = seed >>> 0;
  const next = () => {  // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));  // inclusive
  const pick = (xs) => xs[Math.floor(next() * xs.length)];
  return { next, int, pick };
}

const kWords = ('the of and to in is was that for it with as his on be at by had are but from ' +
  'not have this which they you were her all she there would their we him been has when who will ' +
  'more no if out so said what up its about into than them can only other new some could time ' +
  'these two may then do first any my now such like our over man me even most made after also ' +
  'tokenizer gateway budget latency streaming request response provider model context window ' +
  'encoding unicode whitespace punctuation international naïve café résumé coöperate Zürich ' +
  'hello world OpenAI GPT JSON HTTP API URL UTF-8 iPhone McDonald O\'Brien e-mail re-entry')
  .split(' ');
const kContractions = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'m",
  "'M", "'ll", "'LL", "'lL", "'d", "'D", "'x", "'", "''s", "'ſ", "’s", "'sS", "'llama"];
const kHanzi = '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之' +
  '过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经' +
  '头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情' +
  '部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关' +
  '并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表' +
  '原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战' +
  '干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远' +
  '资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空' +
  '甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站' +
  '广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切' +
  '令牌数量计算模型网关预算延迟分词器';
const kZhPunct = '，。！？；：“”‘’（）《》、…—·【】「」';
const kHiragana = 'あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞだでどばびぶべぼぱぴぷぺぽっゃゅょ';
const kKatakana = 'アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンガギグゲゴザジズゼゾダデドバビブベボパピプペポッャュョー';
const kEmoji = ['😀', '😂', '🥹', '👍', '👋', '🙏', '🔥', '✨', '❤️', '🎉', '🚀', '🤖', '🧑‍💻',
  '👩‍👩‍👧‍👦', '👨‍👩‍👧', '🏳️‍🌈', '🇺🇸', '🇨🇳', '🇯🇵', '1️⃣', '#️⃣', '☕', '⚠️', '✅', '🫠', '🫶🏿',
  '🧔🏻‍♂️', '👩🏽‍🚀', '🤦🏼‍♀️'];
const kSkin = ['', '🏻', '🏼', '🏽', '🏾', '🏿'];
const kAsciiPunct = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const kUniPunct = '¡¿«»§¶†‡•‰′″‹›※‼⁇⁈⁉€£¥©®™°±×÷→←↑↓⇒∀∂∃∅∇∈∑√∞≈≠≤≥⌘⌥␣□■▲●★☆♠♣♥♦♪♫';
const kSpaces = [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\n\n', '\r', '\u00a0', '\u3000', '\u2003',
  '\u2028', '\ufeff', '\u0085', '\u000b', '\u000c', '    ', '\t\t', ' \n', '\n '];
const kCode = [
  'function add(a, b) {\n  return a + b;\n}\n',
  'def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n',
  '#include <vector>\nint main() { std::vector<int> v{1, 2, 3}; return v.size(); }\n',
  'for (let i = 0; i < arr.length; i++) { sum += arr[i] ** 2; }',
  'SELECT id, name FROM users WHERE email LIKE \'%@example.com\' ORDER BY id DESC;',
  'const url = "https://api.example.com/v1/chat/completions?model=gpt-4o&stream=true";',
  '<div class="row"><span id=\'x\'>&nbsp;</span></div>\r\n',
  '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "n": 1}',
  '    if (x != nullptr && *x >= 0x7fff'  + "'" + 'ffff) { ++count; }  // TODO: overflow?\n',
  'fn main() -> Result<(), Box<dyn Error>> {\n\tlet s: &str = "héllo";\n\tOk(())\n}\n',
  '$ curl -sS -X POST http://127.0.0.1:8080/v1/chat/completions -H "Content-Type: application/json"',
  'x = [i*i for i in range(10) if i % 2 == 0]  # squares\n',
  'a/b//c///d  /usr/local/bin/  C:\\Windows\\System32\\  ../../etc/passwd',
];
const kScripts = [
  [0x0400, 0x04ff], [0x0370, 0x03ff], [0x0600, 0x06ff], [0x0590, 0x05ff], [0x0900, 0x097f],
  [0x0e00, 0x0e7f], [0x10a0, 0x10ff], [0x0530, 0x058f], [0x1e00, 0x1eff], [0xac00, 0xd7a3],
  [0x3040, 0x30ff], [0x4e00, 0x9fff], [0x0100, 0x024f], [0x1f300, 0x1faff], [0xff00, 0xffef],
];

function FromRange(r, lo, hi) { return String.fromCodePoint(r.int(lo, hi)); }

function RandomCodePoint(r) {
  for (;;) {
    const roll = r.next();
    let cp;
    if (roll < 0.5) cp = r.int(0, 0xffff);
    else if (roll < 0.8) cp = r.int(0x10000, 0x3ffff);
    else cp = r.int(0, 0x10ffff);
    if (cp >= 0xd800 && cp <= 0xdfff) continue;  // lone surrogates cannot be UTF-8 encoded
    return String.fromCodePoint(cp);
  }
}

function Capitalize(r, w) {
  const roll = r.next();
  if (roll < 0.15) return w[0].toUpperCase() + w.slice(1);
  if (roll < 0.22) return w.toUpperCase();
  if (roll < 0.25) return [...w].map((c) => (r.next() < 0.5 ? c.toUpperCase() : c)).join('');
  return w;
}

const kFragments = {
  english(r) {
    const words = [];
    for (let i = r.int(1, 25); i > 0; i--) {
      let w = Capitalize(r, r.pick(kWords));
      if (r.next() < 0.08) w += r.pick(kContractions);
      words.push(w);
      if (r.next() < 0.12) words.push(r.pick([',', '.', ';', ':', '!', '?', ' -', '...']));
    }
    return words.join(r.next() < 0.9 ? ' ' : '  ') + r.pick(['.', '!', '?', '', '\n', ' ']);
  },
  chinese(r) {
    let s = '';
    for (let i = r.int(1, 60); i > 0; i--) {
      s += r.next() < 0.85 ? r.pick([...kHanzi]) : r.pick([...kZhPunct]);
      if (r.next() < 0.03) s += r.pick(['GPT-4o', 'API', '2024年', '3.14', ' token ', 'OK']);
    }
    return s;
  },
  japanese(r) {
    let s = '';
    for (let i = r.int(1, 50); i > 0; i--) {
      const roll = r.next();
      s += roll < 0.45 ? r.pick([...kHiragana]) : roll < 0.75 ? r.pick([...kKatakana])
        : roll < 0.93 ? r.pick([...kHanzi]) : r.pick(['。', '、', '「', '」', 'ー', '〜', '！']);
    }
    return s;
  },
  korean(r) {
    const words = [];
    for (let i = r.int(1, 12); i > 0; i--) {
      let w = '';
      for (let j = r.int(1, 5); j > 0; j--) w += FromRange(r, 0xac00, 0xd7a3);
      words.push(w);
    }
    return words.join(' ') + r.pick(['.', '?', '!', '', ' ']);
  },
  emoji(r) {
    let s = '';
    for (let i = r.int(1, 10); i > 0; i--) {
      let e = r.pick(kEmoji);
      if (r.next() < 0.3) e = r.pick(['👍', '👋', '🙏', '✋', '👶', '🧑']) + r.pick(kSkin);
      if (r.next() < 0.15) e = e + '\u200d' + r.pick(kEmoji);
      s += e + (r.next() < 0.4 ? ' ' : '') + (r.next() < 0.2 ? r.pick(kWords) : '');
    }
    return s;
  },
  code(r) {
    let s = r.pick(kCode);
    if (r.next() < 0.3) s = s.replaceAll('  ', '\t');
    if (r.next() < 0.3) s = s.replaceAll('\n', '\r\n');
    return s;
  },
  numbers(r) {
    const parts = [];
    for (let i = r.int(1, 8); i > 0; i--) {
      const roll = r.next();
      if (roll < 0.4) parts.push(String(r.int(0, 10 ** r.int(1, 12))));
      else if (roll < 0.55) parts.push((r.next() * 10000).toFixed(r.int(0, 6)));
      else if (roll < 0.65) parts.push(r.int(1, 999) + ',' + String(r.int(0, 999)).padStart(3, '0'));
      else if (roll < 0.75) parts.push([...'٠١٢٣٤٥٦٧٨٩'].slice(0, r.int(1, 10)).join(''));
      else if (roll < 0.85) parts.push('１２３４５'.slice(0, r.int(1, 5)) + 'Ⅻ½²');
      else parts.push('0x' + r.int(0, 0xffffff).toString(16) + ' 1e-' + r.int(1, 30));
    }
    return parts.join(r.pick([' ', ', ', '-', '/', '', ':', '.']));
  },
  whitespace(r) {
    let s = '';
    for (let i = r.int(1, 12); i > 0; i--) {
      s += r.pick(kSpaces);
      if (r.next() < 0.5) s += r.pick(kWords);
    }
    return s;
  },
  punctuation(r) {
    let s = '';
    for (let i = r.int(1, 30); i > 0; i--) {
      s += r.next() < 0.7 ? r.pick([...kAsciiPunct]) : r.pick([...kUniPunct]);
      if (r.next() < 0.1) s += r.pick([' ', '\n', '\r\n', '/', '//']);
    }
    return s;
  },
  contractions(r) {
    const words = [];
    for (let i = r.int(1, 10); i > 0; i--) {
      words.push(Capitalize(r, r.pick(kWords)) + r.pick(kContractions) +
        (r.next() < 0.3 ? r.pick(kContractions) : ''));
    }
    return words.join(r.pick([' ', '', '  ', '\n']));
  },
  scripts(r) {
    let s = '';
    for (let i = r.int(1, 40); i > 0; i--) {
      const [lo, hi] = r.pick(kScripts);
      s += FromRange(r, lo, hi);
      if (r.next() < 0.15) s += ' ';
    }
    return s;
  },
  combining(r) {
    let s = '';
    for (let i = r.int(1, 20); i > 0; i--) {
      const roll = r.next();
      if (roll < 0.1) s += FromRange(r, 0x0300, 0x036f);  // a mark with no base
      else s += r.pick(['a', 'E', 'i', 'O', 'u', 'ǅ', 'ʰ', 'ß', 'Σ', 'n', ' ', 'क', 'ก', '1', "'"]);
      for (let j = r.int(0, 3); j > 0; j--) {
        s += r.next() < 0.7 ? FromRange(r, 0x0300, 0x036f) : FromRange(r, 0x093e, 0x094d);
      }
    }
    return s;
  },
  random(r) {
    let s = '';
    for (let i = r.int(1, 30); i > 0; i--) s += RandomCodePoint(r);
    return s;
  },
  special(r) {
    return r.pick(['<|endoftext|>', '<|fim_prefix|>', '<|endofprompt|>', '<|im_start|>']) +
      r.pick(['', ' ', 'user', '\n']);
  },
  // Pieces longer than 128 bytes (the C++ heap path). js-tiktoken's merge is cubic in the piece
  // length, so these stay short of a few hundred bytes and rare (see RandomText).
  long(r) {
    const roll = r.next();
    if (roll < 0.3) { const at = r.int(0, 200); return kHanzi.slice(at, at + r.int(45, 90)); }
    if (roll < 0.5) return 'a'.repeat(r.int(130, 300)) + 'Z'.repeat(r.int(0, 50));
    if (roll < 0.7) return ' '.repeat(r.int(130, 300)) + r.pick(['', 'x', '\n']);
    if (roll < 0.85) return r.pick(kWords).repeat(r.int(20, 40));
    return '=-'.repeat(r.int(65, 150)) + '\n';
  },
};
const kNames = Object.keys(kFragments).filter((n) => n !== 'long');

// One test string: a fragment of one category, or a mix of several.
export function RandomText(r) {
  if (r.next() < 0.01) return kFragments.long(r);
  if (r.next() < 0.45) return kFragments[r.pick(kNames)](r);
  let s = '';
  for (let i = r.int(2, 6); i > 0; i--) {
    s += kFragments[r.pick(kNames)](r);
    if (r.next() < 0.5) s += r.pick(kSpaces);
  }
  return s;
}

// The benchmark corpus: about `bytes` bytes of English prose, Chinese prose and code.
export function BenchCorpus(bytes) {
  const r = Prng(20261129);
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const roll = r.next();
    const f = roll < 0.4 ? kFragments.english(r) : roll < 0.7 ? kFragments.chinese(r) : kFragments.code(r);
    const s = f + (r.next() < 0.2 ? '\n\n' : ' ');
    parts.push(s);
    size += Buffer.byteLength(s);
  }
  return parts.join('');
}
