// Writes a tiny BERT-shaped embedding model that loads through the real transformers.js pipeline, for tests on
// machines that cannot download weights. The "model" is one Gather: each token's row of a fixed embedding matrix
// is its last_hidden_state, so mean pooling + normalization gives a weighted bag-of-words vector.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { seededUnitVector } from './seeded-vector.ts';

const { onnx } = onnxProto;

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const PUNCTUATION = [...'.,!?;:\'"()[]{}-_/\\@#$%&*+=<>~`^|'];
const CHARACTERS = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
// With every letter and digit also present as a continuation piece, any ASCII word tokenizes without [UNK].
const SUFFIXES = [
  's', 'es', 'ed', 'd', 'ing', 'er', 'ers', 'est', 'ly', 'y', 'ies', 'ied', 'ion', 'ions', 'tion', 'ation',
  'ment', 'ments', 'ness', 'able', 'ible', 'al', 'ful', 'less', 'ity', 'ive', 'ize', 'ized', 'ise', 'ic', 'ous',
  'ship', 'ism', 'ist', 'or', 'ors', 'en', 'ish', 'age', 'ance', 'ence', 'ant', 'ent', 'ery', 'ry',
];
const STOPWORDS = `the a an and or but if then else of to in on at by for with from into onto about above below over
  under between through during before after since until while as than so too very not nor only just also even still
  yet again already ever never always often sometimes is are was were be been being am do does did doing have has
  had having will would shall should can could may might must i me my mine myself we us our ours you your yours he
  him his she her hers it its they them their theirs this that these those there here what which who whom whose
  when where why how all any both each every few more most other some such own same up down out off once`.split(/\s+/);

// Row norms act like IDF weights: content words dominate a sentence's mean, function words and word pieces count
// little, and special tokens almost nothing (not exactly zero, so a text of only unknown words still normalizes).
const WEIGHT = { word: 1, minor: 0.3, special: 0.01 };

export type TestModel = { modelsDir: string; name: string; dim: number };

/** Writes `<dir>/<name>/` so that `MODELS_DIR=<dir>` and `EMBEDDING_MODEL=<name>` select it (fp32 and q8). */
export async function writeTestModel(dir: string, options: { name?: string; dim?: number } = {}): Promise<TestModel> {
  const name = options.name ?? 'test/tiny-minilm';
  const dim = options.dim ?? 384;
  const vocab = await vocabulary();
  const folder = path.join(dir, name);
  await mkdir(path.join(folder, 'onnx'), { recursive: true });
  const model = onnxModel(vocab, dim);
  await Promise.all([
    writeJson(path.join(folder, 'config.json'), {
      model_type: 'bert', architectures: ['BertModel'], hidden_size: dim, vocab_size: vocab.length,
      max_position_embeddings: 512, pad_token_id: 0,
    }),
    writeJson(path.join(folder, 'tokenizer.json'), tokenizerJson(vocab)),
    writeJson(path.join(folder, 'tokenizer_config.json'), {
      tokenizer_class: 'BertTokenizer', model_max_length: 256, do_lower_case: true, strip_accents: null,
      tokenize_chinese_chars: true, clean_up_tokenization_spaces: true,
      pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', mask_token: '[MASK]',
    }),
    writeFile(path.join(folder, 'onnx', 'model.onnx'), model),
    // dtype 'q8' loads model_quantized.onnx; the same fp32 graph under that name keeps production config usable.
    writeFile(path.join(folder, 'onnx', 'model_quantized.onnx'), model),
  ]);
  return { modelsDir: dir, name, dim };
}

type Token = { text: string; weight: number };

async function vocabulary(): Promise<Token[]> {
  const file = await readFile(new URL('./vocabulary.txt', import.meta.url), 'utf8');
  const words = file.split('\n').filter((line) => !line.startsWith('#')).join(' ').split(/\s+/).filter(Boolean);
  const tokens = new Map<string, number>();
  const add = (texts: string[], weight: number) => {
    for (const text of texts) if (!tokens.has(text)) tokens.set(text, weight);
  };
  add(SPECIAL, WEIGHT.special);
  add([...PUNCTUATION, ...CHARACTERS, ...STOPWORDS], WEIGHT.minor);
  add([...CHARACTERS, ...SUFFIXES].map((piece) => `##${piece}`), WEIGHT.minor);
  add(words, WEIGHT.word);
  return [...tokens].map(([text, weight]) => ({ text, weight }));
}

function tokenizerJson(vocab: Token[]): object {
  const id = (text: string) => vocab.findIndex((token) => token.text === text);
  const special = (text: string) => ({ id: text, ids: [id(text)], tokens: [text] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((text) => ({
      id: id(text), content: text, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, index) => [token.text, index])),
    },
  };
}

function onnxModel(vocab: Token[], dim: number): Uint8Array {
  const matrix = new Float32Array(vocab.length * dim);
  vocab.forEach((token, row) => {
    const vector = seededUnitVector(token.text, dim);
    for (let i = 0; i < dim; i++) matrix[row * dim + i] = vector[i]! * token.weight;
  });
  const { INT64, FLOAT } = onnx.TensorProto.DataType;
  const tensor = (name: string, elemType: number, dims: (string | number)[]) => ({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
  const ids = ['batch_size', 'sequence_length'];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'teamspace-test-model',
    graph: {
      name: 'gather_embeddings',
      // The pipeline feeds every input the graph declares; attention_mask and token_type_ids are accepted unused.
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((name) => tensor(name, INT64, ids)),
      output: [tensor('last_hidden_state', FLOAT, [...ids, dim])],
      initializer: [{
        name: 'embeddings', dims: [vocab.length, dim], dataType: FLOAT,
        rawData: new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength),
      }],
      node: [{
        opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['last_hidden_state'],
        attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

async function writeJson(file: string, value: object): Promise<void> {
  await writeFile(file, JSON.stringify(value));
}
