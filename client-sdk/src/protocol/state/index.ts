export * from "./account.ts";
export * from "./nodeStore.ts";
export * from "./sparseMerkleTree.ts";
