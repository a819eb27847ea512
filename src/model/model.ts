/**
 * The executor: runs a ModelSpec's DAG forward, keeps what each layer's backward needs, and runs
 * backward from gradient seeds on any nodes to the input, to intermediate nodes (Grad-CAM) and, on
 * request, to the weights. Everything is recorded on the runtime; nothing is read back here.
 */
import { LimitError, NonFiniteError, OptionError, ShapeError, XaiError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { BACKWARD_RULES, RULE_NAMES, type BackwardRule } from '../ops/activation.js';
import { add } from '../ops/add.js';
import { formatShape } from '../ops/shapes.js';
import { createLayer, rescaleRefusal, type ForwardRecord, type Layer } from './layers.js';
import { UnsupportedModelError } from './loaders/files.js';
import type { LayerSpec, ModelSpec, WeightData } from './spec.js';

/** Name that stands for the model's input in `backward`'s targets, whatever the input node is called. */
export const INPUT = 'input';

export interface ForwardOptions {
  /** Keep what backward needs. Default false (inference: intermediates are freed as soon as possible). */
  forBackward?: boolean;
  /** Nodes whose outputs the caller wants (owned by the pass; read or copy before `dispose()`). */
  keep?: string[];
  /** The rule the backward pass will use; 'rescale' (DeepLIFT, on a batch [inputs; references]) keeps every node's output, since its multipliers read each layer's input and output. */
  rule?: BackwardRule;
}

export interface BackwardOptions {
  /** Nodes whose output gradients to return (`INPUT` for the model input). Default [INPUT]; [] with `weights` (training): the weight gradients of every layer, no node's. */
  to?: string[];
  /** Also return weight gradients of every layer the gradient passes. */
  weights?: boolean;
  /**
   * 'gradient' (default); 'guided': guided backpropagation's ReLU rule (Springenberg et al. 2015),
   * which also zeroes negative upstream gradients at every ReLU; 'rescale': DeepLIFT's rescale
   * rule (src/ops/rescale.ts) on a pass of [inputs; references] run with `rule: 'rescale'`, row i
   * paired with row i + N (seed both halves alike: their gradients stay equal).
   */
  rule?: BackwardRule;
}

export interface BackwardResult {
  /** Gradient of the seeded score with respect to each requested node's output; owned by the caller. */
  gradients: Map<string, Tensor>;
  /** `layer name -> weight name -> gradient`, when requested; owned by the caller. */
  weights: Map<string, Record<string, Tensor>>;
}

/**
 * Every loader's weights pass through here (Model.create is the one way to run a spec): a NaN or
 * infinity in one weight silently turns every explanation into NaN, or worse into a plausible map
 * (a NaN bias makes every probability NaN and 'top' class 0), so it is refused once, at load.
 */
function checkWeightsFinite(spec: ModelSpec): void {
  for (const layer of spec.layers) {
    for (const [weight, value] of Object.entries(layer)) {
      const data = (value as Partial<WeightData> | undefined)?.data;
      if (!(data instanceof Float32Array)) continue;
      const source = (value as WeightData).source;
      const at = data.findIndex((v) => !Number.isFinite(v));
      if (at < 0) continue;
      const bad = data.filter((v) => !Number.isFinite(v)).length;
      throw new NonFiniteError(
        `${spec.source}: weight '${weight}'${source ? ` (${source} in the weight files)` : ''} of node '${layer.name}' holds ${Number.isNaN(data[at]) ? 'NaN' : data[at]} at element ${at} (${bad} of ${data.length} values not finite): the model file is corrupt or was saved after a diverged training run`,
        { node: layer.name, weight },
      );
    }
  }
}

export class ForwardPass {
  private disposed = false;

  /** @internal */
  constructor(
    readonly batch: number,
    /** The backward rule the pass was run for (a 'rescale' pass keeps every node's output). */
    readonly rule: BackwardRule,
    /** @internal every node's record (inputs/outputs kept where backward needs them) */
    readonly records: Map<string, ForwardRecord>,
    /** Outputs of the nodes asked for with `keep`, and of the model output. */
    readonly values: Map<string, Tensor>,
    private readonly owned: Set<Tensor>,
  ) {}

  value(node: string): Tensor {
    const v = this.values.get(node);
    if (!v) throw new XaiError(`The forward pass did not keep node '${node}' (kept: ${[...this.values.keys()].join(', ')})`);
    return v;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.owned) t.dispose();
    this.owned.clear();
  }
}

export class Model {
  readonly layers: Map<string, Layer>;
  /** Topological order (the spec's order, checked). */
  readonly order: readonly string[];
  readonly inputName: string;
  /** Input shape without the batch: [H, W, C]. */
  readonly inputShape: readonly number[];
  readonly outputName: string;
  /** The pre-softmax / pre-sigmoid node when the model ends in one, else the output. */
  readonly logitsName: string;
  readonly labels: string[] | undefined;
  private readonly consumers = new Map<string, string[]>();
  private readonly shapesByBatch = new Map<number, Map<string, Shape>>();
  private largestBatch: number | undefined;

  private constructor(private readonly rt: Runtime, readonly spec: ModelSpec) {
    const seen = new Set<string>();
    const inputs = spec.layers.filter((l) => l.kind === 'input');
    if (inputs.length !== 1) throw new ShapeError(`${spec.source}: a model needs exactly one input layer, found ${inputs.length}`);
    for (const layer of spec.layers) {
      if (seen.has(layer.name)) throw new ShapeError(`${spec.source}: duplicate node name '${layer.name}'`);
      for (const input of layer.inputs) {
        if (!seen.has(input)) throw new ShapeError(`${spec.source}: node '${layer.name}' reads '${input}', which is not defined before it`);
        const list = this.consumers.get(input);
        if (list) list.push(layer.name);
        else this.consumers.set(input, [layer.name]);
      }
      seen.add(layer.name);
    }
    if (!seen.has(spec.output)) throw new ShapeError(`${spec.source}: output node '${spec.output}' does not exist`);
    this.order = spec.layers.map((l) => l.name);
    const input = inputs[0] as Extract<LayerSpec, { kind: 'input' }>;
    this.inputName = input.name;
    this.inputShape = input.shape;
    this.outputName = spec.output;
    this.labels = spec.labels;
    this.layers = new Map();
    checkWeightsFinite(spec); // before the first upload: a refused model holds no GPU memory
    try {
      for (const l of spec.layers) this.layers.set(l.name, createLayer(rt, l));
      this.shapes(1); // validates every layer's shapes now, at load time
    } catch (error) {
      this.dispose(); // the weights uploaded so far
      throw error;
    }
    const last = this.layers.get(spec.output)!.spec;
    const squashes = last.kind === 'softmax' || (last.kind === 'activation' && last.activation === 'sigmoid');
    this.logitsName = squashes ? last.inputs[0] : spec.output;
  }

  static create(rt: Runtime, spec: ModelSpec): Model {
    return new Model(rt, spec);
  }

  get runtime(): Runtime {
    return this.rt;
  }

  layer(name: string): Layer {
    const layer = this.layers.get(name);
    if (!layer) throw new XaiError(`No layer '${name}' in ${this.spec.source} (layers: ${this.order.join(', ')})`);
    return layer;
  }

  /** Every node's output shape for batch `n` (computed once per batch size; do not modify). */
  shapes(n: number): Map<string, Shape> {
    const known = this.shapesByBatch.get(n);
    if (known) return known;
    const shapes = new Map<string, Shape>();
    for (const name of this.order) {
      const layer = this.layers.get(name)!;
      const inputShapes = layer.spec.inputs.map((i) => shapes.get(i)!);
      shapes.set(name, name === this.inputName ? [n, ...this.inputShape] : layer.outputShape(inputShapes));
    }
    this.shapesByBatch.set(n, shapes);
    return shapes;
  }

  /** FLOPs of one forward pass of batch `n` (multiply-add = 2). */
  flops(n: number): number {
    const shapes = this.shapes(n);
    let total = 0;
    for (const name of this.order) {
      const layer = this.layers.get(name)!;
      total += layer.flops(layer.spec.inputs.map((i) => shapes.get(i)!));
    }
    return total;
  }

  /**
   * The largest batch whose every activation fits one storage binding and one buffer of this
   * device; work on larger batches is split into chunks of at most this size.
   */
  maxBatch(): number {
    this.largestBatch ??= this.computeMaxBatch();
    return this.largestBatch;
  }

  private computeMaxBatch(): number {
    const limit = Math.min(this.rt.limits.maxStorageBufferBindingSize, this.rt.limits.maxBufferSize);
    let perItem = 0;
    for (const shape of this.shapes(1).values()) perItem = Math.max(perItem, shape.reduce((a, b) => a * b, 1) * 4);
    const n = Math.floor(limit / perItem);
    if (n < 1) throw new LimitError(`One image needs a ${perItem}-byte activation, more than this device's ${limit}-byte storage binding limit`);
    return n;
  }

  /** Checks that `shape` is [N, ...inputShape]. */
  checkInputShape(shape: Shape): void {
    const expected = this.inputShape;
    if (shape.length !== expected.length + 1 || expected.some((d, i) => d !== shape[i + 1])) {
      throw new ShapeError(`Input ${formatShape(shape)} does not match the model's input [N, ${expected.join(', ')}] (${this.spec.source})`);
    }
  }

  forward(x: Tensor, options: ForwardOptions = {}): ForwardPass {
    this.checkInputShape(x.shape);
    const limit = this.maxBatch();
    if (x.shape[0] > limit) {
      throw new LimitError(`A batch of ${x.shape[0]} needs activations larger than this device's buffer limits allow (at most ${limit} per batch): split it (the Explainer's methods do)`);
    }
    const keep = new Set([...(options.keep ?? []), this.outputName]);
    for (const k of keep) this.layer(k);
    const forBackward = options.forBackward ?? false;
    const rule = options.rule ?? 'gradient';
    if (!BACKWARD_RULES.includes(rule)) throw new OptionError(`forward: unknown rule '${String(rule)}' (use ${RULE_NAMES})`);
    if (rule === 'rescale' && !forBackward) throw new OptionError(`forward: rule 'rescale' is for a pass run with { forBackward: true }`);
    const values = new Map<string, Tensor>([[this.inputName, x]]);
    const remaining = new Map<string, number>(this.order.map((n) => [n, this.consumers.get(n)?.length ?? 0]));
    const pinned = new Set<string>(keep);
    if (forBackward) {
      for (const name of this.order) {
        const layer = this.layers.get(name)!;
        if (layer.saves.output || rule === 'rescale') pinned.add(name);
        if (layer.saves.inputs) for (const i of layer.spec.inputs) pinned.add(i);
      }
    }
    const records = new Map<string, ForwardRecord>();
    const owned = new Set<Tensor>();
    const free = (node: string) => {
      const t = values.get(node)!;
      if (node !== this.inputName && !pinned.has(node)) {
        t.dispose();
        owned.delete(t);
        values.delete(node);
      }
    };
    for (const name of this.order) {
      if (name === this.inputName) continue;
      const layer = this.layers.get(name)!;
      const inputs = layer.spec.inputs.map((i) => values.get(i)!);
      const output = layer.forward(this.rt, inputs);
      owned.add(output);
      values.set(name, output);
      if (forBackward) records.set(name, { inputs, output, inputShapes: inputs.map((t) => t.shape) });
      for (const i of layer.spec.inputs) {
        const left = remaining.get(i)! - 1;
        remaining.set(i, left);
        if (left === 0) free(i);
      }
    }
    const kept = new Map([...values].filter(([node]) => keep.has(node)));
    return new ForwardPass(x.shape[0], rule, records, kept, owned);
  }

  /**
   * Backward from `seeds` (node -> gradient of the score with respect to that node's output,
   * consumed) through the layers recorded by a `forBackward` pass.
   */
  backward(pass: ForwardPass, seeds: Map<string, Tensor>, options: BackwardOptions = {}): BackwardResult {
    if (pass.isDisposed) throw new XaiError('backward: this forward pass was disposed; run forward again');
    if (pass.records.size === 0) throw new XaiError('backward needs a forward pass run with { forBackward: true }');
    const requested = options.to ?? [INPUT];
    const resolve = (node: string) => (node === INPUT ? this.inputName : node);
    const targets = new Set(requested.map(resolve));
    for (const t of targets) this.layer(t);
    // every check before any work is recorded, so that a bad call leaves nothing allocated
    if (options.rule !== undefined && !BACKWARD_RULES.includes(options.rule)) {
      throw new OptionError(`backward: unknown rule '${String(options.rule)}' (use ${RULE_NAMES})`);
    }
    if (options.rule === 'rescale') {
      if (pass.rule !== 'rescale') throw new OptionError(`backward: rule 'rescale' needs a forward pass run with { forBackward: true, rule: 'rescale' }`);
      if (pass.batch % 2 !== 0) throw new ShapeError(`backward: rule 'rescale' pairs row i with row i + N of a batch [inputs; references], but the batch has ${pass.batch} rows`);
      this.checkRule('rescale', [...seeds.keys()], requested);
    }
    const shapes = this.shapes(pass.batch);
    for (const [node, seed] of seeds) {
      const expected = shapes.get(this.layer(node).spec.name)!;
      if (formatShape(seed.shape) !== formatShape(expected)) {
        throw new ShapeError(`backward: the seed for '${node}' is ${formatShape(seed.shape)}, but the node's output is ${formatShape(expected)}`);
      }
    }
    const upstream = new Set(seeds.keys());
    for (let i = this.order.length - 1; i >= 0; i--) {
      if (upstream.has(this.order[i])) for (const input of this.layers.get(this.order[i])!.spec.inputs) upstream.add(input);
    }
    for (const node of requested) {
      if (!upstream.has(resolve(node))) throw new XaiError(`No gradient reaches '${node}' from the seeded node(s) ${[...seeds.keys()].join(', ')}: is it upstream of them?`);
    }
    // gradients only flow into nodes that lie downstream of a target (or are one); with no target
    // and weight gradients asked for (training), into every layer with weights and downstream of it
    const wanted = new Set<string>(targets);
    const training = requested.length === 0 && !!options.weights;
    for (const name of this.order) {
      const layer = this.layers.get(name)!;
      const weighted = training && Object.keys(layer.weights).length > 0;
      if (weighted || layer.spec.inputs.some((i) => wanted.has(i))) wanted.add(name);
    }
    const gradients = new Map<string, Tensor>();
    const accumulate = (node: string, g: Tensor) => {
      const previous = gradients.get(node);
      if (!previous) {
        gradients.set(node, g);
        return;
      }
      gradients.set(node, add(this.rt, previous, g));
      previous.dispose();
      g.dispose();
    };
    for (const [node, seed] of seeds) accumulate(node, seed);
    const weights = new Map<string, Record<string, Tensor>>();
    for (let index = this.order.length - 1; index >= 0; index--) {
      const name = this.order[index];
      const dy = gradients.get(name);
      if (!dy || name === this.inputName) continue;
      const layer = this.layers.get(name)!;
      const wantInputs = layer.spec.inputs.some((i) => wanted.has(i));
      const wantWeights = !!options.weights && Object.keys(layer.weights).length > 0;
      if (wantInputs || wantWeights) {
        const grads = layer.backward(this.rt, pass.records.get(name)!, dy, { inputs: wantInputs, weights: wantWeights, rule: options.rule });
        grads.inputs.forEach((g, i) => {
          if (!g) return;
          if (wanted.has(layer.spec.inputs[i])) accumulate(layer.spec.inputs[i], g);
          else g.dispose();
        });
        if (wantWeights) weights.set(name, grads.weights);
      }
      if (!targets.has(name)) {
        dy.dispose();
        gradients.delete(name);
      }
    }
    const result = new Map<string, Tensor>();
    for (const node of requested) {
      result.set(node, gradients.get(resolve(node))!);
    }
    return { gradients: result, weights };
  }

  /**
   * Throws UnsupportedModelError, naming the first layer and its kind, when `rule` cannot pass a
   * layer between the nodes `to` (default the input) and the `seeds`: explanation methods call
   * this before any GPU work. Only 'rescale' refuses layers (rescaleRefusal in layers.ts).
   */
  checkRule(rule: BackwardRule, seeds: readonly string[], to: readonly string[] = [INPUT]): void {
    if (rule !== 'rescale') return;
    const downstream = new Set(to.map((node) => (node === INPUT ? this.inputName : node)));
    for (const name of this.order) if (this.layer(name).spec.inputs.some((i) => downstream.has(i))) downstream.add(name);
    const upstream = new Set(seeds.map((node) => this.layer(node).spec.name));
    for (let i = this.order.length - 1; i >= 0; i--) {
      const name = this.order[i];
      if (!upstream.has(name)) continue;
      for (const input of this.layers.get(name)!.spec.inputs) upstream.add(input);
      const spec = this.layers.get(name)!.spec;
      const reason = downstream.has(name) && spec.kind !== 'input' ? rescaleRefusal(spec) : undefined;
      if (reason) {
        throw new UnsupportedModelError(
          `DeepLIFT's rescale rule cannot pass layer '${name}' (${spec.kind}) of ${this.spec.source}: ${reason}`,
          { node: name, op: spec.kind },
        );
      }
    }
  }

  dispose(): void {
    for (const layer of this.layers.values()) for (const w of [...Object.values(layer.weights), ...Object.values(layer.constants ?? {})]) w.dispose();
  }
}
