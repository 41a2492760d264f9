export * from "./account.ts";
export * from "./nodeStore.ts";
export * from "./packedNodes.ts";
export * from "./sparseMerkleTree.ts";
