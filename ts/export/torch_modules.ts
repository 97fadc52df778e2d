/**
 * tread modules as torch.nn constructor calls, with the same state-dict names: a Sequential
 * tree (nested Sequentials keep their prefixes) of the layers below. Anything else is refused
 * naming the layer's path and class, since a guess would load weights into the wrong shape.
 */
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { py } from './python.js';

type Any = Record<string, any>;

function leaf(m: Any, cls: string, path: string): string {
  const kw = (pairs: [string, unknown][]) => pairs.map(([k, v]) => `${k}=${py(v)}`).join(', ');
  switch (cls) {
    case 'Linear':
      return `nn.Linear(${m.inFeatures}, ${m.outFeatures}, ${kw([['bias', m.bias != null]])})`;
    case 'Conv2d': {
      const padding = typeof m.padding === 'string' ? m.padding : m.padding;
      return `nn.Conv2d(${m.inChannels}, ${m.outChannels}, ${kw([['kernel_size', m.kernelSize], ['stride', m.stride], ['padding', padding], ['dilation', m.dilation], ['groups', m.groups], ['bias', m.bias != null], ['padding_mode', m.paddingMode]])})`;
    }
    case 'BatchNorm1d':
    case 'BatchNorm2d':
      return `nn.${cls}(${m.numFeatures}, ${kw([['eps', m.eps], ['momentum', m.momentum], ['affine', m.affine], ['track_running_stats', m.trackRunningStats]])})`;
    case 'ReLU':
    case 'Sigmoid':
    case 'Tanh':
    case 'SiLU':
    case 'Identity':
      return `nn.${cls}()`;
    case 'LeakyReLU':
      return `nn.LeakyReLU(${kw([['negative_slope', m.negativeSlope]])})`;
    case 'ELU':
      return `nn.ELU(${kw([['alpha', m.alpha]])})`;
    case 'GELU':
      return `nn.GELU(${kw([['approximate', m.approximate]])})`;
    case 'Softplus':
      return `nn.Softplus(${kw([['beta', m.beta], ['threshold', m.threshold]])})`;
    case 'Softmax':
    case 'LogSoftmax':
      return `nn.${cls}(${kw([['dim', m.dim]])})`;
    case 'Flatten':
      return `nn.Flatten(${kw([['start_dim', m.startDim], ['end_dim', m.endDim]])})`;
    case 'Dropout':
      return `nn.Dropout(${kw([['p', m.p]])})`;
    case 'Conv1d':
      return `nn.Conv1d(${m.inChannels}, ${m.outChannels}, ${kw([['kernel_size', m.kernelSize], ['stride', m.stride], ['padding', m.padding], ['dilation', m.dilation], ['groups', m.groups], ['bias', m.bias != null], ['padding_mode', m.paddingMode]])})`;
    case 'LayerNorm':
      return `nn.LayerNorm(${kw([['normalized_shape', m.normalizedShape], ['eps', m.eps], ['elementwise_affine', m.elementwiseAffine]])})`;
    case 'GroupNorm':
      return `nn.GroupNorm(${m.numGroups}, ${m.numChannels}, ${kw([['eps', m.eps], ['affine', m.affine]])})`;
    case 'Embedding':
      return `nn.Embedding(${m.numEmbeddings}, ${m.embeddingDim}, ${kw([['padding_idx', m.paddingIdx], ['max_norm', m.maxNorm], ['norm_type', m.normType], ['scale_grad_by_freq', m.scaleGradByFreq]])})`;
    case 'AdaptiveAvgPool2d':
      return `nn.AdaptiveAvgPool2d(${kw([['output_size', m.outputSize]])})`;
    case 'Dropout2d':
      return `nn.Dropout2d(${kw([['p', m.p]])})`;
    case 'MaxPool2d':
      return `nn.MaxPool2d(${kw([['kernel_size', m.kernelSize], ['stride', m.stride], ['padding', m.padding], ['dilation', m.dilation], ['ceil_mode', m.ceilMode]])})`;
    case 'AvgPool2d':
      return `nn.AvgPool2d(${kw([['kernel_size', m.kernelSize], ['stride', m.stride], ['padding', m.padding], ['ceil_mode', m.ceilMode], ['count_include_pad', m.countIncludePad], ['divisor_override', m.divisorOverride]])})`;
    default:
      throw new Error(`export to PyTorch: layer '${path || '(root)'}' is a ${cls}, which the exporter does not know; supported: Sequential trees of Linear, Conv1d/2d, BatchNorm1d/2d, LayerNorm, GroupNorm, Embedding, pooling (incl. AdaptiveAvgPool2d), Flatten, Dropout/Dropout2d and activations. Save the weights (saveWeights: PyTorch names) and build that module in PyTorch yourself.`);
  }
}

/** `model` as a Python expression that builds the same module tree. */
export function modulePython(model: Module, path = '', indent = '    '): string {
  const cls = model.constructor.name;
  if (cls === 'Sequential') {
    const children = model.namedChildren();
    children.forEach(([name], i) => {
      if (name !== String(i)) throw new Error(`export to PyTorch: Sequential '${path || '(root)'}' has a child named '${name}' at position ${i}; PyTorch's Sequential numbers its children`);
    });
    const inner = children.map(([name, c]) => `${indent}    ${modulePython(c, path ? `${path}.${name}` : name, indent + '    ')},`);
    return `nn.Sequential(\n${inner.join('\n')}\n${indent})`;
  }
  if (model.namedChildren().length > 0) {
    throw new Error(`export to PyTorch: '${path || '(root)'}' is a custom module (${cls}) with submodules; the exporter writes Sequential trees only. Save the weights (saveWeights: PyTorch names) and write that module in PyTorch yourself.`);
  }
  return leaf(model as unknown as Any, cls, path);
}

/** A loss module as a torch.nn constructor call. */
export function lossPython(loss: unknown): string {
  const l = loss as Any;
  const cls = l?.constructor?.name;
  const red = `reduction=${py(l?.reduction ?? 'mean')}`;
  const weight = (t: Tensor | null | undefined, name: string) => (t ? `, ${name}=torch.tensor(${py([...t.f32])}, dtype=torch.float32)` : '');
  switch (cls) {
    case 'CrossEntropyLoss':
      return `nn.CrossEntropyLoss(${red}, label_smoothing=${py(l.labelSmoothing)}, ignore_index=${py(l.ignoreIndex)}${weight(l.weight, 'weight')})`;
    case 'NLLLoss':
      return `nn.NLLLoss(${red}, ignore_index=${py(l.ignoreIndex)}${weight(l.weight, 'weight')})`;
    case 'MSELoss':
    case 'L1Loss':
      return `nn.${cls}(${red})`;
    case 'SmoothL1Loss':
      return `nn.SmoothL1Loss(${red}, beta=${py(l.beta)})`;
    case 'HuberLoss':
      return `nn.HuberLoss(${red}, delta=${py(l.delta)})`;
    case 'BCELoss':
      return `nn.BCELoss(${red}${weight(l.weight, 'weight')})`;
    case 'BCEWithLogitsLoss':
      return `nn.BCEWithLogitsLoss(${red}${weight(l.weight, 'weight')}${weight(l.posWeight, 'pos_weight')})`;
    default:
      throw new Error(`export to PyTorch: the loss is ${cls ?? typeof loss}; supported: tread's CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss, BCEWithLogitsLoss`);
  }
}
