export * from './container-facts.ts';
export * from './discover.ts';
export * from './image-name.ts';
export * from './label-names.ts';
export * from './labelled-projects.ts';
export * from './migrate-labels.ts';
export * from './parse-labels.ts';
export * from './stage-settings.ts';
