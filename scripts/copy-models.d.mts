/** Types of scripts/copy-models.mjs (plain JavaScript so that `node` runs it without a build). */
export declare const MODELS_DIR: string;
export declare const HUMAN_MODELS: string;
export declare const ASTRONAUT: string;
export declare const FACE_CROP: [number, number, number, number];
export declare function copyModels(outDir?: string, log?: Pick<Console, 'warn'>): Promise<string[]>;
