export { GraphBuilder, type ElemType } from './graph.js';
export {
  buildParallelStablefGraph,
  buildRecurrentLoopGraph,
  type MlstmGraphDims,
  type MlstmGraphOptions,
} from './mlstm-graphs.js';
export { onnxModelType } from './proto.js';
