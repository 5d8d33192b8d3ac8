// The word lists of the simulated tokenizer and text generator (see text-generator.ts).
// Layer: shared (pure data).
//
// Hand-written, shipped in the repo (no downloads). The generator builds simple, grammatical English sentences
// from the role lists (determiner, adjective, noun, verb, ...); the tokenizer maps every word of every list to
// its own tokens. Lists are ordered roughly from common to rare: the order gives the sampling weight.
// Nouns and adjectives avoid words whose article is irregular ("an hour", "a unit"), so a/an agreement holds.
//
// Changing these lists changes token ids and generated text: do it deliberately (tests pin some outputs).

function words(text: string): readonly string[] {
  // Duplicates are dropped, keeping the first (most common) position.
  return [...new Set(text.split(/\s+/).filter((w) => w.length > 0))];
}

/** Determiners of a singular noun phrase. `a`/`an` are matched to the next word by the generator. */
export const DETERMINERS = words(`
  the a an this that every each my his her our their your its another one no
`);

export const SUBJECT_PRONOUNS = words(`he she they we I you it someone everyone nobody`);

export const OBJECT_PRONOUNS = words(
  `it them him her us me you something everything nothing everyone`,
);

export const ADJECTIVES = words(`
  old small little young new quiet bright dark warm cold long short large big tall gentle strong
  happy busy empty open early green blue red white black yellow golden silver wooden narrow wide
  heavy soft calm clean simple strange careful curious friendly lonely lucky hungry tired sleepy
  brave clever kind proud patient polite quick slow distant nearby ancient orange icy
  eager elegant odd ordinary enormous tiny huge deep shallow steep smooth rough sharp broken
  fresh dry wet sweet bitter sour salty plain fancy famous secret hidden silent noisy crowded
  peaceful stormy sunny cloudy windy rainy frozen shiny dusty muddy rusty crooked straight round
  square thin thick pale bold shy wise foolish gentle cheerful grumpy serious funny lively
  quiet restless grateful hopeful famous common rare real magic crystal paper
  stone glass iron velvet cotton woolen purple pink brown gray scarlet amber emerald ivory
  early late final first second third last next whole entire extra empty elderly modern
  important interesting unusual unexpected obvious awkward anxious excited ambitious active
`);

export const NOUNS = words(`
  man woman child boy girl friend teacher doctor farmer driver writer painter singer student
  neighbor stranger traveler soldier sailor baker cook king queen prince princess artist captain
  pilot nurse worker gardener fisherman hunter merchant musician poet scientist engineer clerk
  guard village city town house home room door window table chair bed kitchen garden street road
  bridge river lake sea ocean island mountain hill valley forest field farm park station market
  shop store school library church castle tower wall gate roof floor corner path trail harbor
  beach shore coast desert cave meadow orchard pond stream well fountain lamp candle fire stone
  rock tree flower leaf branch root seed bird dog cat horse cow sheep goat fish fox wolf bear deer
  rabbit mouse owl crow duck goose hen lion tiger snake frog bee butterfly book letter page story
  song poem picture painting map note message paper pen pencil box bag basket bottle cup glass
  plate bowl spoon knife key coin ring hat coat shoe boot shirt dress scarf blanket pillow clock
  watch bell mirror camera radio phone computer machine engine wheel car train bus boat ship plane
  bicycle ticket tool hammer rope ladder bucket shovel net sail anchor wagon cart kite ball toy
  game puzzle gift cake bread apple orange lemon cheese soup tea coffee milk water honey sugar
  salt egg meal dinner breakfast lunch morning evening night day week month year season summer
  winter spring autumn storm rain snow wind cloud sun moon star sky light shadow sound voice
  silence dream idea plan reason question answer problem secret promise memory moment chance
  choice journey trip visit meeting party festival holiday lesson class job task project report
  team family group crowd army company council office desk drawer shelf cupboard closet attic
  cellar yard fence hedge barn stable mill factory hospital museum theater restaurant hotel inn
  cottage cabin tent camp fire lantern torch compass telescope violin piano drum guitar flute
  trumpet painting statue carpet curtain vase jar kettle pot pan oven stove sink bath towel soap
  brush comb needle thread button pocket wallet purse umbrella envelope stamp newspaper magazine
  diary notebook album photograph mountain glacier volcano canyon cliff waterfall swamp jungle
  island bay lagoon reef wave tide current breeze thunder lightning rainbow fog mist frost dawn
  dusk sunset sunrise horizon planet comet garden path engineer inventor detective explorer
  astronaut librarian shepherd blacksmith carpenter tailor potter weaver miller messenger
  apple acorn eagle owl otter elephant ant arrow anchor oar ax envelope island orchard oven
  engine elevator umbrella ocean idea answer artist actor uncle aunt orange egg
`);

/** Past-tense verbs that take an object ("found a key"). */
export const TRANSITIVE_VERBS = words(`
  found saw took made built opened closed carried followed watched painted wrote read bought sold
  brought sent held kept lifted moved pushed pulled cleaned fixed repaired visited noticed
  remembered forgot discovered explored crossed climbed reached entered passed shared answered
  called helped met greeted thanked joined caught dropped threw hid covered filled washed cooked
  baked planted picked collected gathered counted measured studied learned showed heard touched
  tested checked signed packed wrapped borrowed returned offered chose described imagined
  noticed guarded protected welcomed admired ignored recognized followed finished started
  prepared designed drew copied shaped polished painted decorated opened unlocked locked
  searched lost won earned saved spent needed wanted liked loved enjoyed missed
`);

/** Past-tense verbs without an object ("walked slowly"). */
export const INTRANSITIVE_VERBS = words(`
  walked laughed smiled slept waited arrived rested sang danced listened worked played paused
  stayed returned disappeared appeared wandered shouted whispered nodded sighed jumped fell rose
  stood sat spoke agreed hesitated continued began stopped vanished glowed shone sparkled
  trembled hurried drifted floated swam flew grew changed improved traveled climbed cried
  waved knocked called answered listened stayed moved left
`);

/** Adverbs that can follow a verb. */
export const ADVERBS = words(`
  quickly slowly quietly carefully gently softly suddenly again together today yesterday later
  soon early outside inside away there here often happily calmly loudly patiently eagerly
  briefly silently warmly proudly nervously politely bravely cheerfully kindly tonight forever
  anyway alone
`);

/** Sentence openers, always followed by a comma ("Later, ..."). */
export const OPENERS = words(`
  then later meanwhile suddenly soon finally eventually afterwards today yesterday outside
  fortunately unfortunately luckily somehow still
`);

export const PREPOSITIONS = words(`
  in on at near under over behind beside across through into toward from with along around past
  beyond inside outside above below without for by
`);

/** Conjunctions that start a new clause after a comma. */
export const CONJUNCTIONS = words(
  `and but so while because when although until as since before after though`,
);

/**
 * Further common words: never generated, but known to the tokenizer so that typical prompts are one token per
 * word rather than one token per letter.
 */
export const EXTRA_WORDS = words(`
  be is are was were been being am have has had having do does did done doing will would shall
  should can could may might must not no yes of to for by about up out down off than too very
  just also there here then now if or what which who whom whose where why how all any both few
  more most other some such only own same so like well even back still way get got make go went
  gone know knew think thought come came look want give gave use tell ask work seem feel felt try
  leave call need mean keep let put set turn show hear play run move live believe bring happen
  write provide sit stand lose pay meet include continue learn change lead understand watch
  follow stop create speak read allow add spend grow offer remember love consider appear buy wait
  serve die send expect build stay fall cut reach kill remain suggest raise pass sell require
  report decide pull explain describe summarize translate list compare answer question please
  thank thanks hello hi hey dear sir madam okay ok sure sorry welcome goodbye bye system user
  assistant model prompt response request input output text word sentence paragraph number data
  example information people person thing things time times world life part place case point
  government system program problem fact hand eye eyes face head name area money side kind
  something nothing everything anything someone anyone everyone nobody many much every each
  first last long great little own other old right big high different small large next early
  young important few public bad same able good best better new sure free true whole clear
  full special easy strong certain real human local late hard major possible political social
  national white black red blue green open short low late general specific simple difficult
  today tomorrow yesterday always never sometimes often usually again already ever soon once
  into through during before after above below between among against without within along
  following across behind beyond plus except around upon toward towards until since while
  because although though unless whether either neither nor yet however therefore instead
  its me my mine myself you your yours yourself he him his himself she her hers herself it
  itself we us our ours ourselves they them their theirs themselves this that these those one
  two three four five six seven eight nine ten hundred thousand million billion zero first
  second third half percent minute minutes hour hours second seconds day days year years
  language code function value type error file line table list set map key string object array
  true false null server client worker request token tokens cache memory context generation
  please explain write story poem short long brief detail details step steps reason reasons
  why how what when where who describe tell give show help make create generate summarize
`);
