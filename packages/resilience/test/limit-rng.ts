// Property tests import `rng` from here; the generator itself lives in the shared test kit.
export { seededRandom as rng } from '@ballast/testkit';
