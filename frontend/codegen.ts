import type { CodegenConfig } from "@graphql-codegen/cli";

// The schema is the SDL exported by the server and committed at the repository root.
// PACKGRAPH_CODEGEN_OUT lets `npm run codegen:check` generate into a temporary directory.
const schema = process.env.PACKGRAPH_SCHEMA ?? "../schema.graphql";
const out = process.env.PACKGRAPH_CODEGEN_OUT ?? "src/gql/";

const config: CodegenConfig = {
  schema,
  documents: ["src/**/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    [out]: {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        scalars: { DateTime: "string", Date: "string", JSON: "unknown" },
        skipTypename: false,
        dedupeFragments: true,
      },
    },
  },
};

export default config;
