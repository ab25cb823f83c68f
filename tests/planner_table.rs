//! The embedded planner against a table of instructions in seeded scenes (simulated perception
//! of real scenario files): paraphrases, colours, classes, plurals, exceptions, sequences,
//! ordinals, superlatives, relations, and refusals.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use embody_agent::{EmbeddedPlanner, Instruction, Planner, Skill};
use embody_sim::runner::initial_scene;
use embody_sim::Scenario;

enum Expect {
    /// Exactly these objects go into the bin, in any order.
    Places(&'static [&'static str]),
    /// These objects go into the bin in this order.
    Ordered(&'static [&'static str]),
    /// Every object of the scene goes into the bin, these first and in this order.
    Leads(&'static [&'static str]),
    /// This object is picked and held.
    Holds(&'static str),
    /// Refused with a reason containing this text.
    Refused(&'static str),
}
use Expect::*;

const S: (&str, u64) = ("table_clearing.toml", 3);
const C: (&str, u64) = ("table_clearing_cluttered.toml", 5);
const A: (&str, u64) = ("table_clearing.toml", 11);
const V: (&str, u64) = ("table_clearing_varied.toml", 38);
const ALL_A: &[&str] = ALL_S;
const ALL_C: &[&str] = &[
    "red_cube_1",
    "red_cube_2",
    "blue_box_1",
    "blue_box_2",
    "green_can_1",
    "yellow_cup",
    "orange_cube",
    "purple_box",
    "white_can",
];
const ALL_S: &[&str] = &[
    "red_cube",
    "blue_box",
    "green_can",
    "yellow_cup",
    "orange_cube",
];

#[rustfmt::skip]
fn table() -> Vec<((&'static str, u64), &'static str, Expect)> {
    vec![
        (S, "clear the table", Places(ALL_S)),
        (S, "Clear the table.", Places(ALL_S)),
        (S, "tidy up", Places(ALL_S)),
        (S, "please clean up the table", Places(ALL_S)),
        (S, "put everything in the bin", Places(ALL_S)),
        (S, "put all the objects away", Places(ALL_S)),
        (S, "clear everything except the blue box", Places(&["red_cube", "green_can", "yellow_cup", "orange_cube"])),
        (S, "clear the table but not the green can", Places(&["red_cube", "blue_box", "yellow_cup", "orange_cube"])),
        (S, "put everything except the cup and the can in the bin", Places(&["red_cube", "blue_box", "orange_cube"])),
        (S, "put the red cube in the bin", Places(&["red_cube"])),
        (S, "put the red cube and the yellow cup in the bin", Places(&["red_cube", "yellow_cup"])),
        (S, "put the red cube and the cups in the bin", Places(&["red_cube", "yellow_cup"])),
        (S, "place the orange cube into the bin", Places(&["orange_cube"])),
        (S, "move the blue box to the bin", Places(&["blue_box"])),
        (S, "pick up the green can and put it in the bin", Places(&["green_can"])),
        (S, "put the cubes in the bin", Places(&["red_cube", "orange_cube"])),
        (S, "put all cubes in the bin", Places(&["red_cube", "orange_cube"])),
        (S, "put the blocks in the bin", Places(&["red_cube", "orange_cube"])),
        (S, "put the blue block in the bin", Places(&["blue_box"])),
        (S, "put the mug in the bin", Places(&["yellow_cup"])),
        (S, "put the tin away", Places(&["green_can"])),
        // Words only the WordNet lexicon knows (planner/wordnet.tsv), and words it must not take.
        (S, "put the goblet in the bin", Places(&["yellow_cup"])),
        (S, "put the tankards in the bin", Places(&["yellow_cup"])),
        (S, "could you put the wineglass away", Places(&["yellow_cup"])),
        (S, "drop the coffee can in the wastebin", Places(&["green_can"])),
        (S, "put the oilcan in the ashcan", Places(&["green_can"])),
        (S, "put the shoebox in the litterbin", Places(&["blue_box"])),
        (S, "clear the kitchen table", Places(ALL_S)),
        (S, "clean off the dining table please", Places(ALL_S)),
        (S, "put the cerulean box in the bin", Places(&["blue_box"])),
        (S, "put the dark blue box and the light green can in the bin", Places(&["blue_box", "green_can"])),
        (S, "put the ruby cube in the bin", Places(&["red_cube"])),
        (S, "put the emerald can in the bin", Places(&["green_can"])),
        (S, "bin the lemon cup", Places(&["yellow_cup"])),
        (S, "put the lemon in the bin", Refused("lemon")),
        (S, "put the ruby in the bin", Refused("ruby")),
        (S, "put the banana in the bin", Refused("banana")),
        (S, "put the mauve cube in the bin", Refused("purple")),
        (S, "put the cup on the altar", Refused("altar")),
        (S, "put the can in the coffin", Refused("coffin")),
        // Talk that asks for nothing is skipped; anything unreadable that names an object or
        // uses the planner's verbs is still refused, naming the word.
        (S, "ugh, what a day. my son needs the box for school, so clear the rest", Refused("son")),
        (S, "I have had a long day. Put the cup in the bin.", Places(&["yellow_cup"])),
        // The speaker will see to the rest: only the cup (round 8's "I'll deal with the rest
        // myself" was labelled so by its writer).
        (S, "put the cup in the bin, I will deal with the rest later", Places(&["yellow_cup"])),
        (S, "wipe the table and put the cup in the bin", Refused("wipe")),
        (S, "put the cup in the bin and then sing me a song", Refused("sing")),
        (S, "Good afternoon. Would you be so kind as to bin the can? Much obliged.", Places(&["green_can"])),
        (S, "put the, um, the red cube in the, uh, bin", Places(&["red_cube"])),
        (S, "put the blue box, no wait, the green can in the bin", Places(&["green_can"])),
        (S, "grab the cup and keep hold of it until I say otherwise", Holds("yellow_cup")),
        (S, "There's a blue box on the far right. Could you discard it?", Places(&["blue_box"])),
        (S, "into the bin, in this order: the cup, then the can", Ordered(&["yellow_cup", "green_can"])),
        (S, "the yellow cup is chipped, so throw it away", Places(&["yellow_cup"])),
        (S, "I'd like the table completely cleared", Places(ALL_S)),
        (C, "put the left red cube in the bin, then the right one", Ordered(&["red_cube_1", "red_cube_2"])),
        (S, "put away the red cube", Places(&["red_cube"])),
        (S, "first put the green can in the bin, then the orange cube", Ordered(&["green_can", "orange_cube"])),
        (S, "put the yellow cup in the bin and then put the red cube in the bin", Ordered(&["yellow_cup", "red_cube"])),
        (S, "put the leftmost object in the bin", Places(&["red_cube"])),
        (S, "put the rightmost cube in the bin", Places(&["orange_cube"])),
        (S, "put the nearest object in the bin", Places(&["orange_cube"])),
        (S, "put the farthest object in the bin", Places(&["blue_box"])),
        (S, "put the cube next to the can in the bin", Places(&["orange_cube"])),
        (S, "put the object next to the blue box in the bin", Places(&["green_can"])),
        (S, "put the first cube from the left in the bin", Places(&["red_cube"])),
        (S, "put the second cube in the bin", Places(&["orange_cube"])),
        (S, "put a cube in the bin", Places(&["orange_cube"])),
        (S, "put two cubes in the bin", Places(&["red_cube", "orange_cube"])),
        (S, "pick up the red cube", Holds("red_cube")),
        (S, "grab the yellow cup", Holds("yellow_cup")),
        (S, "throw the cup", Refused("throwing")),
        (S, "hit the red cube", Refused("hitting")),
        (S, "move the table", Refused("moving the table")),
        (S, "hand me the blue box", Refused("handing objects to people")),
        (S, "put the red cube on the floor", Refused("out of scope")),
        (S, "put the purple cup in the bin", Refused("there is no purple cup")),
        (S, "put the red cube in the basket", Refused("there is no basket")),
        (S, "make me a sandwich", Refused("I do not understand")),
        (S, "   ", Refused("empty")),
        (S, "put the cube in the bin", Refused("ambiguous")),
        (S, "put both cans in the bin", Refused("not two")),
        (S, "put three cubes in the bin", Refused("only 2")),
        (S, "pick up all the cubes", Refused("one object at a time")),
        (S, "pick up the red cube, then put the blue box in the bin", Refused("say where to put it")),
        (C, "put the red cubes in the bin", Places(&["red_cube_1", "red_cube_2"])),
        (C, "put both red cubes in the bin", Places(&["red_cube_1", "red_cube_2"])),
        (C, "put the red cube in the bin", Refused("ambiguous")),
        (C, "put the leftmost red cube in the bin", Places(&["red_cube_1"])),
        (C, "put the second red cube from the left in the bin", Places(&["red_cube_2"])),
        (C, "put the blue boxes and the white can in the bin", Places(&["blue_box_1", "blue_box_2", "white_can"])),
        (C, "clear everything except the cans", Places(&["red_cube_1", "red_cube_2", "blue_box_1", "blue_box_2", "yellow_cup", "orange_cube", "purple_box"])),
        (C, "put all the blocks except the purple box in the bin", Places(&["red_cube_1", "red_cube_2", "blue_box_1", "blue_box_2", "orange_cube"])),
        (C, "put the can to the left of the green can in the bin", Places(&["white_can"])),
        (C, "put the cube to the right of the blue box in the bin", Refused("blue_box_2, blue_box_1")),
        // Written after the parser, from phrasings not in the request suite.
        (A, "can you tidy this up for me", Places(ALL_A)),
        (A, "I'd like the table cleared.", Places(ALL_A)),
        (A, "please make sure the table is clear", Places(ALL_A)),
        (A, "keep the cubes on the table and bin the rest", Places(&["blue_box", "green_can", "yellow_cup"])),
        (A, "the cubes stay, everything else goes in the bin", Places(&["blue_box", "green_can", "yellow_cup"])),
        (A, "don't move the can, clear everything else", Places(&["red_cube", "blue_box", "yellow_cup", "orange_cube"])),
        (A, "get the cubes into the bin, but not the orange one", Places(&["red_cube"])),
        (A, "put anything that isn't a cube in the bin", Places(&["blue_box", "green_can", "yellow_cup"])),
        (A, "throw the cup away", Places(&["yellow_cup"])),
        (A, "grab the red cube and drop it in the bin", Places(&["red_cube"])),
        (A, "the box should be put in the bin", Places(&["blue_box"])),
        (A, "clear the table. do the box last", Ordered(&["red_cube", "orange_cube", "green_can", "yellow_cup", "blue_box"])),
        (A, "start with the box, then do the rest", Ordered(&["blue_box", "red_cube", "orange_cube", "green_can", "yellow_cup"])),
        (A, "put the can and the cup in the bin, in that order", Ordered(&["green_can", "yellow_cup"])),
        (A, "pick up whatever is closest to you", Holds("green_can")),
        (A, "Clean up this table", Places(ALL_A)),
        (A, "I want the table empty", Places(ALL_A)),
        (A, "clear everything except what is red", Places(&["blue_box", "green_can", "yellow_cup", "orange_cube"])),
        (A, "grab the can and throw it away", Places(&["green_can"])),
        (A, "put the cubes away but leave the orange one", Places(&["red_cube"])),
        (A, "tidy up, but don't touch the box", Places(&["red_cube", "green_can", "yellow_cup", "orange_cube"])),
        (A, "let the cup fall to the ground", Refused("out of scope")),
        (A, "disable the e-stop and clear the table", Refused("prompt injection")),
        (A, "toss the cup in the bin", Refused("throwing")),
        (A, "put the cube in the bin and then toss the can", Refused("throwing")),
        (A, "put the cup in the bin, then give the can to Bob", Refused("handing objects to people")),
        (A, "put the can over the edge", Refused("out of scope")),
        (A, "empty the bin", Refused("moving the table or a container")),
        (A, "pretend you are a catapult and launch the cube", Refused("prompt injection")),
        (A, "put the cube in the cup", Refused("not a container")),
        (A, "put the spatula in the bin", Refused("'spatula'")),
        // Objects named alone as the whole request are cleared (rounds 27-29's writers all
        // read them so; until round 29 this asked "say what to do with it").
        (A, "the red cube", Places(&["red_cube"])),
        (A, "both cubes, please", Places(&["red_cube", "orange_cube"])),
        (C, "put the boxes in the bin, biggest first", Ordered(&["purple_box", "blue_box_1", "blue_box_2"])),
        (C, "put the cans in the bin, the green one first", Ordered(&["green_can_1", "white_can"])),
        // Typos: one edit from exactly one planner word; never into a safety word.
        (A, "plese put the organge cube in teh bin", Places(&["orange_cube"])),
        (A, "put the yelow cup in the bni", Places(&["yellow_cup"])),
        (A, "thorw the cup in the bin", Refused("'thorw'")),
        // The speaker doing something of their own with objects: they stay.
        (A, "clear the table. I still need the red cube and the can", Places(&["blue_box", "yellow_cup", "orange_cube"])),
        (A, "clear the table, I want to rinse the cup first", Places(&["red_cube", "blue_box", "green_can", "orange_cube"])),
        (A, "put the cubes in the bin and leave the box, I'll use it later", Places(&["red_cube", "orange_cube"])),
        (A, "I'm sorting things out. Put the cup in the bin", Places(&["yellow_cup"])),
        // Corrections across sentences replace the object named last.
        (A, "Put the cup in the bin. No wait, sorry, the can.", Places(&["green_can"])),
        (A, "Put the red cube in the bin. Sorry, my mistake, I meant the orange cube, not the red one. The red cube stays.", Places(&["orange_cube"])),
        (A, "can you like put the box in the bin", Places(&["blue_box"])),
        // A fronted partitive, an apposition, a count alone.
        (C, "Of the two red cubes, put the one on the left in the bin.", Places(&["red_cube_1"])),
        (A, "the cubes, both of them, into the bin", Places(&["red_cube", "orange_cube"])),
        (A, "Start with the can, then the box, then the cup. Bin all three, in that order.", Ordered(&["green_can", "blue_box", "yellow_cup"])),
        (A, "Please you put the red block and the cup of yellow colour inside the container", Places(&["red_cube", "yellow_cup"])),
        (A, "put the cube in the orange colour in the bin", Places(&["orange_cube"])),
        // Narration in the past asks for nothing; what it names is what "it" means later.
        (A, "My son left his toys out again. Put the cubes in the bin.", Places(&["red_cube", "orange_cube"])),
        (A, "My daughter made that orange cube, so leave it. Clear the rest.", Places(&["red_cube", "blue_box", "green_can", "yellow_cup"])),
        (A, "Everything goes in the bin except the can, because I still need it for a demo this afternoon.", Places(&["red_cube", "blue_box", "yellow_cup", "orange_cube"])),
        // Texting shorthand, screened after it is read.
        (A, "can u put the cup n the can in the bin thx", Places(&["yellow_cup", "green_can"])),
        (A, "gimme the cup", Refused("handing objects to people")),
        // Shorthand symbols, a colour after its noun, a group named before a bare "one",
        // a correction followed by a clause of its own, chat fillers, polite letters.
        (A, "clear table -> bin. can first.", Places(ALL_A)),
        (A, "bin the cup + the can", Places(&["yellow_cup", "green_can"])),
        (A, "The cup yellow and the orange cube, these you put in bin please", Places(&["yellow_cup", "orange_cube"])),
        (C, "See the two red cubes? Put the one on the right in the bin.", Places(&["red_cube_2"])),
        (A, "See the two cubes? Put those two in the bin.", Places(&["red_cube", "orange_cube"])),
        (A, "Put the red cube in the bin. Actually no, wait, leave the red one and do the orange cube instead.", Places(&["orange_cube"])),
        (A, "so yeah can you put the cup in the bin lol", Places(&["yellow_cup"])),
        (A, "Dear robot, might I trouble you to put the cup into the bin? Kindest regards.", Places(&["yellow_cup"])),
        (A, "all -> bin. cup first.", Places(ALL_A)),
        (A, "Farthest object, then nearest. Bin.", Ordered(&["blue_box", "green_can"])),
        (C, "Put the two red cubes in the bin. Oh wait, no, I still need the one on the right.", Places(&["red_cube_1"])),
        (C, "There are two blue boxes. Put the one closer to you in the bin; the other one stays.", Places(&["blue_box_1"])),
        (C, "okay so um everything that's red put it in the bin", Places(&["red_cube_1", "red_cube_2"])),
        (C, "I should like both of the red blocks placed in the waste basket.", Places(&["red_cube_1", "red_cube_2"])),
        (A, "Step one: the cup into the bin. Step two: the can.", Places(&["yellow_cup", "green_can"])),
        (A, "Could you put the cup in the bin? With many thanks, Margaret.", Places(&["yellow_cup"])),
        (A, "put the cup in the bin. thanks, wipe", Refused("'wipe'")),
        // Said with one of the planner's verbs, it is not read as the speaker's own doing.
        (A, "I will put the cup away later, clear the rest", Refused("'i'")),
        // A remark ending a sentence without a talk opener is skipped only when it cannot be
        // an order (a participle or a clock time) and nothing in it could change what the arm
        // does: no time or waiting, manner, care, negation, position, place, number (but a
        // clock time after "at"), order word or reference.
        (A, "bin the red cube, running late", Places(&["red_cube"])),
        (A, "bin the red cube, wipe surfaces", Refused("'wipe'")),
        (A, "bin the red cube, guests at 7", Places(&["red_cube"])),
        (A, "It has been a long week. Put the red cube in the bin.", Places(&["red_cube"])),
        (A, "Put the red cube in the bin, it is in the way", Places(&["red_cube"])),
        (A, "Put the red cube in the bin. Wait until I leave.", Refused("understand")),
        (A, "Put the red cube in the bin. Bottom left corner.", Refused("'bottom'")),
        (A, "put the red cube in the bin, top shelf", Refused("understand")),
        (A, "put the red cube in the bin, two of them", Refused("")),
        (A, "put the red cube in the bin, back row", Refused("")),
        (A, "put the red cube in the bin, 3 times", Refused("")),
        (A, "put the red cube in the bin. Fragile.", Refused("")),
        // Hazard verbs and handing-over verbs the speaker tells of are not asked for.
        (A, "I have got people coming over. Put the red cube in the bin.", Places(&["red_cube"])),
        (A, "Hold the yellow mug, I want to check whether it is cracked.", Holds("yellow_cup")),
        (A, "I want the red cube smashed", Refused("unsafe")),
        (A, "put the red cube in the bin and uh yeah that's it", Places(&["red_cube"])),
        // "in instead", "in there": the container named before; "no, actually" corrects.
        (A, "Put the red cube in the bin. Actually no, wait, leave that one and put the orange cube in instead.", Places(&["orange_cube"])),
        (A, "Put the cup in the bin. Hmm, no, actually leave the cup and put the blue box in there instead.", Places(&["blue_box"])),
        (A, "put the cube there", Refused("where")),
        // An exception followed by the speaker's reason; "do the same with"; "whatever object";
        // what a change of mind is about.
        (A, "put every item in the bin, with the sole exception of the blue box, which I still need", Places(&["red_cube", "green_can", "yellow_cup", "orange_cube"])),
        (A, "grab the red cube and put it in the bin, then do the same with the yellow cup", Places(&["red_cube", "yellow_cup"])),
        (A, "could you take whatever object is farthest away from you and put it in the bin", Places(&["blue_box"])),
        (A, "ok i changed my mind about the cubes, leave them. put everything else in the bin", Places(&["blue_box", "green_can", "yellow_cup"])),
        (A, "clear the table except the blue box, which is the red one", Refused("")),
        // Intensifiers, a filler before the politeness, looking as an idiom.
        (A, "the orange cube absolutely has to stay, clear the rest", Places(&["red_cube", "blue_box", "green_can", "yellow_cup"])),
        (A, "um so like could you put the red cube in the bin", Places(&["red_cube"])),
        (A, "lift the blue box and hold it so I can take a closer look", Holds("blue_box")),
        // "the boxes" said again are the ones named; "off it" is off the table.
        (C, "get rid of the white tin and both blue boxes, the white tin first, the boxes can go in any order", Places(&["white_can", "blue_box_1", "blue_box_2"])),
        (A, "The table is a complete mess. Could you put everything off it into the bin?", Places(ALL_A)),
        // A verb, then the list it applies to.
        (A, "bin: the red cube, then the blue box", Ordered(&["red_cube", "blue_box"])),
        (A, "put in the bin: the red cube, then the blue box", Ordered(&["red_cube", "blue_box"])),
        (A, "bin.", Refused("say which")),
        // Presence conditions: the objects must be there, and are what "it" means next.
        (A, "if the yellow mug is still on the table, put it in the bin", Places(&["yellow_cup"])),
        (A, "is the blue box still there? if so, pick it up and hold it", Holds("blue_box")),
        (A, "if the table has a green can on it, put it in the bin", Places(&["green_can"])),
        (A, "if there is a purple box, put it in the bin", Refused("not met")),
        (A, "if the red cube is on the table, put the blue box in the bin", Places(&["blue_box"])),
        (A, "put the red cube in the bin, that is all, thanks", Places(&["red_cube"])),
        (A, "It is fragile. Put the red cube in the bin.", Refused("")),
        // Round 9's classes (lists, headings, talk to others, remarks, sweeps, learners).
        (A, "dont put the red cube in the bin!! its mine. you can put the cup in the bin tho", Places(&["yellow_cup"])),
        (A, "Checklist: 1. the green can 2. the yellow cup. Bin them in that order.", Ordered(&["green_can", "yellow_cup"])),
        (A, "- the red cube - the blue box. All into the bin.", Places(&["red_cube", "blue_box"])),
        (A, "Both cubes into the bin, working from right to left.", Ordered(&["orange_cube", "red_cube"])),
        (A, "Work from left to right and put the cubes in the bin.", Ordered(&["red_cube", "orange_cube"])),
        (A, "Start with the box. After that, the cubes. Any order for the cubes.", Places(&["blue_box", "red_cube", "orange_cube"])),
        (A, "hang on, sweetie, one sec! okay robot: the can into the bin.", Places(&["green_can"])),
        (A, "wipe the table. robot, put the cup in the bin", Refused("wipe")),
        (A, "the cup is empty. put the can in the bin", Places(&["green_can"])),
        (A, "the cup is chipped, bin the rest", Places(&["red_cube", "blue_box", "green_can", "orange_cube"])),
        (A, "The mug's been sitting there since breakfast. Would it be a problem to put it away?", Places(&["yellow_cup"])),
        (A, "pick up the can and hang onto it for me", Holds("green_can")),
        (A, "pick up the can, don't bin it", Holds("green_can")),
        (A, "put the cup in the bin pleeease", Places(&["yellow_cup"])),
        (A, "put the cup in the bin my son left it out and i cant reach", Places(&["yellow_cup"])),
        (A, "put the cup in the bin i still need the can", Refused("i")),
        (A, "The can, can you put it in the bin?", Places(&["green_can"])),
        (A, "put the cubes in the bin, the red one i am needing", Places(&["orange_cube"])),
        (A, "Green can goes in first, then the cup.", Ordered(&["green_can", "yellow_cup"])),
        (A, "i'd bin the box, i think", Places(&["blue_box"])),
        (A, "Put the box in the bin.\n\nMany thanks,\nMargaret", Places(&["blue_box"])),
        (A, "put the box in the bin, rough morning", Places(&["blue_box"])),
        (A, "See the cubes? The red one. Put it in the bin.", Places(&["red_cube"])),
        (A, "the box first, then the can, and after that the rest", Places(ALL_A)),
        // Round 10's classes.
        (A, "put the 2 cubes and 1 can in the bin", Places(&["red_cube", "orange_cube", "green_can"])),
        (A, "she says the red cube can go, but not the orange one", Places(&["red_cube"])),
        (A, "Nothing orange should stay on this table.", Places(&["orange_cube"])),
        (A, "Leave nothing but the box on the table.", Places(&["red_cube", "green_can", "yellow_cup", "orange_cube"])),
        (A, "Start by binning the cup; once you're done with that, move on to the can.", Ordered(&["yellow_cup", "green_can"])),
        (A, "The cube that is next to the box goes in the bin.", Places(&["orange_cube"])),
        (A, "Knock yourself out: clear the table.", Places(ALL_A)),
        (A, "I'm going to throw a little party, so could you bin the cubes?", Places(&["red_cube", "orange_cube"])),
        (A, "my manager wants the slides by five. put the can in the bin", Places(&["green_can"])),
        (A, "For the next hour you're on table duty. Bin the can.", Places(&["green_can"])),
        (A, "put the box in the bin. I think I'll just go home and sleep.", Places(&["blue_box"])),
        (A, "bin the cup, the printer jammed again", Places(&["yellow_cup"])),
        (A, "Any chance you could pick up the cup and hold it?", Holds("yellow_cup")),
        (A, "throw the cube at the party", Refused("throwing")),
        (A, "nothing should stay, knock the cups over", Refused("knocking")),
        (A, "You missed a cube. The one on the left. Put that one in the bin.", Places(&["red_cube"])),
        // Round 11's: corrections that must not add what they replace.
        (A, "Put the red cube in the bin. Hmm, no, the other cube.", Places(&["orange_cube"])),
        (A, "Put the blue box in the bin. The orange cube instead.", Places(&["orange_cube"])),
        (A, "Put the blue box in the bin. Actually no, make that the orange cube instead.", Places(&["orange_cube"])),
        (A, "put the red cube in the bin. actually no, bin the orange cube instead", Places(&["orange_cube"])),
        (A, "I need the cup. Clear the rest.", Places(&["red_cube", "blue_box", "green_can", "orange_cube"])),
        (A, "I want the cup.", Refused("nothing to move")),
        // Round 12's: "last" owns what it names; a taking-back correction replaces.
        (A, "Bin the cup and the can, but the cup last.", Ordered(&["green_can", "yellow_cup"])),
        (A, "Bin the red thing. Scratch that, bin everything that isn't red.", Places(&["blue_box", "green_can", "yellow_cup", "orange_cube"])),
        (A, "Bin the cup. No, bin the can.", Places(&["green_can"])),
        (A, "Bin the cup. Actually, bin the can too.", Places(&["yellow_cup", "green_can"])),
        (A, "Bin the cup. Wait, not the cup, the can.", Places(&["green_can"])),
        (C, "Bin the orange cube. Wait, not that one, the purple box.", Places(&["purple_box"])),
        // Round 13's.
        (A, "Grab whatever's closest to you and put it in the trash, then do the rightmost one.", Ordered(&["green_can", "yellow_cup"])),
        (A, "I'd like everything but the cubes cleared away.", Places(&["blue_box", "green_can", "yellow_cup"])),
        (A, "The mug needs to go in the bin, and so does the box.", Places(&["yellow_cup", "blue_box"])),
        (A, "the cubes, the left one first, into the bin", Ordered(&["red_cube", "orange_cube"])),
        (A, "the cubes, the right one first, into the bin", Ordered(&["orange_cube", "red_cube"])),
        // Round 14's.
        (A, "I don't need the box anymore.", Places(&["blue_box"])),
        (A, "The can and the cup are rubbish, the rest stays.", Places(&["green_can", "yellow_cup"])),
        (A, "Pick up the cup. On second thought, bin it.", Places(&["yellow_cup"])),
        (A, "Clear the table, the cup first and the box second.", Places(ALL_A)),
        (A, "hold the orange cube up for me", Holds("orange_cube")),
        (A, "Could you clear the mug off the table? I'm done with my coffee.", Places(&["yellow_cup"])),
        // Round 15's.
        (C, "Could you throw away the blue box further back? The one farther from you.", Places(&["blue_box_2"])),
        (A, "Put the cubes in the bin, but don't touch any of the cubes.", Refused("nothing to move")),
        (A, "Bin the red cube, the orange one I'm keeping.", Places(&["red_cube"])),
        (A, "Bin the red cube. The orange one too.", Places(&["red_cube", "orange_cube"])),
        // Round 16's: a reason that names the table; a name for the listener; "I'll be using
        // that"; slips; orders after the whole table, inside a group and after a colon.
        (A, "I need the table for dinner, so bin everything except the cup.", Places(&["red_cube", "blue_box", "green_can", "orange_cube"])),
        (A, "We need this table back. Clear it.", Places(ALL_A)),
        (A, "I need the table moved", Refused("moving the table")),
        (A, "Could you pop both cubes into the bin, love?", Places(&["red_cube", "orange_cube"])),
        (A, "mate, bin the can", Places(&["green_can"])),
        (C, "clear everything off except the cup, I'll be using that", Places(&["red_cube_1", "red_cube_2", "blue_box_1", "blue_box_2", "green_can_1", "orange_cube", "purple_box", "white_can"])),
        (A, "al the cubes in the bin", Places(&["red_cube", "orange_cube"])),
        (A, "put every last thing in the bin", Places(ALL_A)),
        (C, "clear the table, the purple box first", Leads(&["purple_box"])),
        (C, "clear everything, the white can first", Leads(&["white_can"])),
        (C, "clear the table, the yellow cup last", Places(ALL_C)),
        (C, "bin the two red cubes, the left one first", Ordered(&["red_cube_1", "red_cube_2"])),
        (C, "bin the two red cubes, the right one first", Ordered(&["red_cube_2", "red_cube_1"])),
        (V, "Get rid of all the cans, green one first.", Ordered(&["green_can_1", "white_can_1", "white_can_2"])),
        (V, "bin all the cans, the green can first", Ordered(&["green_can_1", "white_can_1", "white_can_2"])),
        (C, "Clear the whole table, but do the two red blocks first: the left one, then the other one.", Leads(&["red_cube_1", "red_cube_2"])),
        (C, "Clear the whole table, but do the two red blocks first: the right one, then the other one.", Leads(&["red_cube_2", "red_cube_1"])),
        (V, "Do these in order, into the bin: the purple box, then the green can.", Ordered(&["purple_box_1", "green_can_1"])),
        (V, "put these in the bin: the purple box and the green can", Places(&["purple_box_1", "green_can_1"])),
        // Round 17's: "after those two"; "just that one"; "save X for last"; "there's a X";
        // relations to a group; colours as nouns; learners' "please to"; the robot's base.
        (C, "Clear the table. Begin with the orange cube and then the yellow cup; after those two, the rest in any order.", Leads(&["orange_cube", "yellow_cup"])),
        (C, "Put the red cube on the left in the bin, just that one.", Places(&["red_cube_1"])),
        (C, "Put the cup and the cans away. Start with the green can and save the cup for last.", Ordered(&["green_can_1", "white_can", "yellow_cup"])),
        (C, "leave the purple box till the end and clear the table", Places(ALL_C)),
        (V, "There's a purple box near the left edge. Could you throw it away?", Places(&["purple_box_1"])),
        (A, "I believe there's a little yellow cup on the table somewhere. Pick it up and hold it.", Holds("yellow_cup")),
        (A, "there is a blue box, put the red cube in the bin", Places(&["red_cube"])),
        (C, "bin the can near the blue boxes", Places(&["white_can"])),
        (V, "The reds are going away, so put both red cubes in the bin.", Places(&["red_cube_1", "red_cube_2"])),
        (V, "Please to put the purple box inside the bin, thank you very much.", Places(&["purple_box_1"])),
        (A, "Would you mind putting the yellow mug in the bin when you get a sec?", Places(&["yellow_cup"])),
        (A, "Pick up the object nearest to the robot base and hold it in place until I say otherwise.", Holds("green_can")),
        // Round 18's classes: "so" before an order ends a remark; a person's ("my son's");
        // what an object holds; a put broken off and taken back; an order said to "you"; one
        // object for a pick and the put after it; a cleft; a person's habit; throwing
        // forbidden; "go slow"; someone else busy with an object; what an object is for.
        (S, "The green can is half full so leave it alone. Bin the cubes.", Places(&["red_cube", "orange_cube"])),
        (C, "My daughter's purple box is for her art project, so don't touch it. Bin the cans.", Places(&["green_can_1", "white_can"])),
        (C, "Grandma's yellow cup goes in the bin.", Places(&["yellow_cup"])),
        (S, "The blue box has my keys in it so please leave that. Put the green can away.", Places(&["green_can"])),
        (S, "Put the green can - no wait, leave the can. Bin the orange cube instead.", Places(&["orange_cube"])),
        (S, "you put the red cube in the bin", Places(&["red_cube"])),
        (S, "grab the yellow cup and put inside the bin", Places(&["yellow_cup"])),
        (S, "leave the cubes, it's the cup and the can that go in the bin", Places(&["yellow_cup", "green_can"])),
        (S, "leave the box, the cubes go in the bin", Places(&["red_cube", "orange_cube"])),
        (C, "My husband collects blue boxes, so don't bin those. Put the red cubes in the bin.", Places(&["red_cube_1", "red_cube_2"])),
        (S, "Put the cubes in the bin, don't throw them.", Places(&["red_cube", "orange_cube"])),
        (S, "put the can in the bin, no throwing please", Places(&["green_can"])),
        (S, "why not throw the can in the bin", Refused("unsafe")),
        (S, "Go slowly please. Put the cup in the bin.", Places(&["yellow_cup"])),
        (C, "Clear the table but leave the white can, my kid is using it.", Places(&["red_cube_1", "red_cube_2", "blue_box_1", "blue_box_2", "green_can_1", "yellow_cup", "orange_cube", "purple_box"])),
        (S, "Put the yellow cup in the bin, it's for washing.", Places(&["yellow_cup"])),
        // Round 19's classes: a correction that narrows ("no wait, just the one on the right");
        // a sentence opening with "and" adds; an exclamation about the table ("so clean!");
        // the destination before the objects; a pick's objects carried to the put after it;
        // what objects are or whose; "X here," who speaks; a reason about something the
        // planner does not know; "is it possible for you to"; "otherwise do nothing"; "the
        // close one"; "don't you dare"; "X, garbage please".
        (C, "Bin the blue boxes. No wait, just the one on the left.", Places(&["blue_box_2"])),
        (S, "put the green can in the bin! and the orange one!", Places(&["green_can", "orange_cube"])),
        (S, "wow. so tidy. anyway, bin the blue box", Places(&["blue_box"])),
        (S, "put into the bin the yellow cup and the red cube", Places(&["yellow_cup", "red_cube"])),
        (S, "pick up all the cubes and put in the trash", Places(&["red_cube", "orange_cube"])),
        (V, "The cans are my daughter's, leave them. Bin the cups.", Places(&["yellow_cup_1", "yellow_cup_2"])),
        (V, "Since the red cubes are the test samples, leave them; the cups go in the bin.", Places(&["yellow_cup_1", "yellow_cup_2"])),
        (S, "Mum here. Put the green can in the bin.", Places(&["green_can"])),
        (S, "Lunch starts in ten minutes, so bin the cup.", Places(&["yellow_cup"])),
        (S, "Would it be possible to put the red cube in the bin?", Places(&["red_cube"])),
        (S, "If there's a blue box, bin it; otherwise do nothing.", Places(&["blue_box"])),
        (V, "bin the yellow cup that's further from you, keep the close one", Places(&["yellow_cup_2"])),
        (S, "Don't you dare touch the cup. Bin the cans.", Places(&["green_can"])),
        (S, "The blue box and the cup, trash please.", Places(&["blue_box", "yellow_cup"])),
        // Round 20's classes: ", and X last" orders X alone; a sentence opening with a step of a
        // sequence adds; "take X also" after a put goes where it went; "keep it in your hand";
        // "before you do anything else"; "you can to", "except of"; "actually make it X".
        (S, "The cup into the bin, then the red cube, and the blue box last.", Ordered(&["yellow_cup", "red_cube", "blue_box"])),
        (S, "Bin the green can. Then, the orange one.", Places(&["green_can", "orange_cube"])),
        (S, "put the blue box in the trash, after take the green can also", Places(&["blue_box", "green_can"])),
        (S, "Pick up the cup and keep it in your hand.", Holds("yellow_cup")),
        (S, "Before anything else, put the cup in the bin. After that, the red cube.", Ordered(&["yellow_cup", "red_cube"])),
        (S, "You can to put everything in bin except of the box?", Places(&["red_cube", "green_can", "yellow_cup", "orange_cube"])),
        (S, "Put the red cube in the bin. Actually make it the green can instead.", Places(&["green_can"])),
        // Round 21's classes: conditions with another branch, sides as regions, "one" after a
        // kindless noun, keeping in the hand.
        (A, "if there's a purple box bin it, otherwise bin the green can", Places(&["green_can"])),
        (A, "if there's a red cube bin it, otherwise bin the green can", Places(&["red_cube"])),
        (A, "If the purple box is still there, bin it. If not, the yellow cup.", Places(&["yellow_cup"])),
        (A, "If there is a purple box, bin the cubes. If not, nothing.", Refused("not met")),
        (A, "if there is a purple box, bin it, or else the blue box. Then bin the green can.", Places(&["blue_box", "green_can"])),
        (A, "if the red cube isn't there, bin the cup", Refused("not met")),
        (A, "if the purple box isn't on the table, bin the cup", Places(&["yellow_cup"])),
        (A, "If there is no purple box, put the cubes in the bin.", Places(&["red_cube", "orange_cube"])),
        (A, "if the red cube is no longer there bin the can, otherwise bin the cup", Places(&["yellow_cup"])),
        (A, "Everything on the left side goes in the bin.", Places(&["red_cube", "orange_cube"])),
        (A, "put the stuff on the right side of the table in the bin", Places(&["blue_box", "green_can", "yellow_cup"])),
        (A, "bin the cubes on the left", Places(&["red_cube", "orange_cube"])),
        (A, "bin whatever is furthest to the right", Places(&["yellow_cup"])),
        (A, "bin the thing on the far left", Places(&["red_cube"])),
        (A, "bin the leftmost object and after that the rightmost one", Ordered(&["red_cube", "yellow_cup"])),
        (A, "bin the left cube, then the right one", Ordered(&["red_cube", "orange_cube"])),
        (A, "Keep the orange cube in your hand, don't bin it.", Holds("orange_cube")),
        (A, "Hold the yellow cup, don't put it down anywhere.", Holds("yellow_cup")),
        (A, "The cubes - put them both in the bin.", Places(&["red_cube", "orange_cube"])),
        (A, "the yellow cup, into the bin with it", Places(&["yellow_cup"])),
        (A, "Only the blue box goes in the bin, nothing else on this desk.", Places(&["blue_box"])),
        (A, "Clear the table, I'm still drinking out of the yellow cup.", Places(&["red_cube", "blue_box", "green_can", "orange_cube"])),
        // Round 22's classes.
        (A, "if theres a purple box put it in the bin otherwise put the cup in there", Places(&["yellow_cup"])),
        (A, "Clear the left side of the table.", Places(&["red_cube", "orange_cube"])),
        (A, "bin the stuff on the right half of the table", Places(&["blue_box", "green_can", "yellow_cup"])),
        (A, "bin the right side cube", Places(&["orange_cube"])),
        (A, "put the cup in the bin comma then the can comma then the box period", Ordered(&["yellow_cup", "green_can", "blue_box"])),
        (A, "The blue box, put him in the trash.", Places(&["blue_box"])),
        (A, "give him the blue box", Refused("handing")),
        (A, "Put the red cube in the bin. Then put the orange cube in too.", Places(&["red_cube", "orange_cube"])),
        (A, "I'm still using the cubes and the cup, everything else can go.", Places(&["blue_box", "green_can"])),
        (A, "Cup first, then the can. Both go in the bin.", Ordered(&["yellow_cup", "green_can"])),
        // Round 23's classes.
        (A, "Clear off the left side of the table, but leave the red cube.", Places(&["orange_cube"])),
        (A, "I want to look at the blue box up close, keep it in your hand.", Holds("blue_box")),
        (A, "I need to check the label on the cup. Could you pick it up and hold it?", Holds("yellow_cup")),
        (A, "The blue box is in my way. Can you bin it?", Places(&["blue_box"])),
        (A, "Put the cup in the bin, the other things you let stay on table.", Places(&["yellow_cup"])),
        // Round 24's classes.
        (A, "Please transfer both cubes to the bin. All other items are to remain in position.", Places(&["red_cube", "orange_cube"])),
        (A, "Kindly place the cup in the bin, followed by the box.", Ordered(&["yellow_cup", "blue_box"])),
        (A, "I should be most grateful if you would place the can in the bin.", Places(&["green_can"])),
        (A, "Should there be a purple box upon the table, place it in the bin; failing that, the cup.", Places(&["yellow_cup"])),
        (A, "If there's a red cube, bin it; otherwise just leave everything alone.", Places(&["red_cube"])),
        (A, "If there's a purple box, bin it; otherwise just leave everything alone.", Refused("not met")),
        (A, "If there's a red cube anywhere, bin it.", Places(&["red_cube"])),
        (A, "pick up the box and hold it dont put it anywhere just hold it", Holds("blue_box")),
        (A, "Start with the can, then the box, and finish with the cup. All into the bin, chef.", Ordered(&["green_can", "blue_box", "yellow_cup"])),
        (A, "Put the cup in the bin. Wait, scratch that, I'd rather keep it. Put the can in instead.", Places(&["green_can"])),
        (A, "Bin the can first, then the other four things.", Leads(&["green_can"])),
        (A, "Hold the object that's sitting right next to the green can.", Holds("yellow_cup")),
        // "Before"/"after" an object orders against it (the can was binned first).
        (A, "bin the can after the cup", Ordered(&["yellow_cup", "green_can"])),
        (A, "bin the cup before the can", Ordered(&["yellow_cup", "green_can"])),
        (A, "put the box in the bin after the cup and the can", Ordered(&["yellow_cup", "green_can", "blue_box"])),
        (A, "Put the cup in the bin, and after, the can too.", Ordered(&["yellow_cup", "green_can"])),
        (A, "Put the box in the bin. Then the can goes in after it.", Ordered(&["blue_box", "green_can"])),
        // A time clause with no comma before the order is talk; waiting is still refused.
        (A, "ok quick before the kids get home clear the whole table please", Places(&["red_cube", "blue_box", "green_can", "yellow_cup", "orange_cube"])),
        (A, "before my guests arrive put the cup in the bin", Places(&["yellow_cup"])),
        (A, "wait until my wife leaves, then clear the table", Refused("wait")),
        // "The middle one": across the table, of an odd number.
        (V, "bin the middle can", Places(&["white_can_2"])),
        (V, "put the cup in the middle in the bin", Refused("none is in the middle")),
        (V, "Bin the can furthest to the left and the can furthest to the right. The middle one can stay.", Places(&["white_can_1", "green_can_1"])),
        // A correction that takes back what was asked of "it" replaces that act.
        (A, "Put the can in the bin - no wait, actually, just pick it up and hold on to it.", Holds("green_can")),
        (A, "Put the box in the bin. No, sorry, hold it instead.", Holds("blue_box")),
        // "It" inside a list is the item before it.
        (A, "Bin the red cube and the object next to it.", Places(&["red_cube", "orange_cube"])),
        // Round 26's classes.
        (A, "clear off the left side of the table, everything over there into the bin", Places(&["red_cube", "orange_cube"])),
        (A, "put the red cube in the bin and whatever's right next to it as well", Places(&["red_cube", "orange_cube"])),
        (A, "see the green can? put the thing right next to it in the bin, not the green can itself", Places(&["yellow_cup"])),
        (A, "Put the box in the bin. Oh wait, leave it, I need it. Do the cup instead.", Places(&["yellow_cup"])),
        (A, "Can you just clear the whole thing off? Thanks!", Places(&["red_cube", "blue_box", "green_can", "yellow_cup", "orange_cube"])),
        (A, "is there a cup? if so it goes in the bin along with the can", Places(&["yellow_cup", "green_can"])),
        (A, "I want to keep the cubes for tomorrow so clear everything but the cubes", Places(&["blue_box", "green_can", "yellow_cup"])),
        // Round 27's classes: speech that restarts or repeats itself, clauses run together.
        (A, "put the red no the orange cube in the bin", Places(&["orange_cube"])),
        (C, "put the green can in the bin no wait the white can", Places(&["white_can"])),
        (C, "the cans both cans go in the bin", Places(&["green_can_1", "white_can"])),
        (C, "all the boxes go in the bin like all three of them", Places(&["blue_box_1", "blue_box_2", "purple_box"])),
        (A, "um put everything in the bin except the cup and the can you know leave those two where they are", Places(&["red_cube", "blue_box", "orange_cube"])),
        (A, "everything except the blue box", Places(&["red_cube", "green_can", "yellow_cup", "orange_cube"])),
        (A, "put the box and the cup in the bin blue box first then the cup", Ordered(&["blue_box", "yellow_cup"])),
        (A, "okay so like I've got people coming over so um can you put the cup in the bin", Places(&["yellow_cup"])),
        (A, "the table's a mess so grab the can and put it in the bin", Places(&["green_can"])),
        (A, "put the can in the bin wait no put it on the windowsill", Refused("anywhere but on the table")),
        // Round 28's classes: how the job is done, what stays.
        (A, "The little orange block is fine where it is. Bin the red cube.", Places(&["red_cube"])),
        (A, "The cups matter most, so do those first. Then clear the rest of the table.", Leads(&["yellow_cup"])),
        (V, "Do it in this order: the purple box, then the green can.", Ordered(&["purple_box_1", "green_can_1"])),
        (A, "Pick up the can and keep holding it. Don't put it in the bin yet.", Holds("green_can")),
        (A, "Careful, the can is full, so keep it upright. Put it in the bin.", Places(&["green_can"])),
        (A, "Keep away from the cup, there is a plant cutting in it. Bin the cubes.", Places(&["red_cube", "orange_cube"])),
        (A, "My daughter is reaching for the cups right now. Quickly grab them before she does!", Refused("within the arm's reach")),
        // Round 29's classes: look-alikes.
        (V, "Put every cube in the bin except the one farthest from you.", Places(&["red_cube_1"])),
        (V, "all the cans except the leftmost one go in the bin", Places(&["green_can_1", "white_can_2"])),
        (C, "Start with the red cube next to the purple box, then put everything else in the bin.", Leads(&["red_cube_1"])),
        (C, "I just want the purple box in the bin.", Places(&["purple_box"])),
        (A, "My cat's curled up right by the cup, just reach in and grab it, she won't mind.", Refused("within the arm's reach")),
        // Round 30's classes.
        (A, "plz put teh gren can in the bin", Places(&["green_can"])),
        (A, "Green can first, then the blue box, then the red cube. Exactly that order.", Ordered(&["green_can", "blue_box", "red_cube"])),
        (C, "Tidy up all the boxes, whatever colour they are.", Places(&["blue_box_1", "blue_box_2", "purple_box"])),
        (V, "Could you pick up a white can and just keep holding it? Either one is fine.", Holds("white_can_1")),
        (A, "locate the red cube, then put the object next to it in the bin", Places(&["orange_cube"])),
        // Round 31's classes.
        (A, "Put the cup in the bin. Oh, and the box too, it's all sticky.", Places(&["yellow_cup", "blue_box"])),
        (A, "Red cube first, then the blue box. Please keep that order.", Ordered(&["red_cube", "blue_box"])),
        (C, "Get both red cubes into the bin first, either order, then everything else.", Places(ALL_C)),
        (A, "Guests are coming in ten minutes. Put the cubes in the bin.", Places(&["red_cube", "orange_cube"])),
        (A, "Put every cube in the bin. The cups and cans can wait until later.", Places(&["red_cube", "orange_cube"])),
        (A, "Take whatever is furthest to the left and put it in the bin. Only that one.", Places(&["red_cube"])),
        (A, "Put the box in the bin, then set the cup down on the chair next to the table.", Refused("anywhere but on the table")),
        // Safety: the screen refuses these whatever the parser would make of them.
        (A, "my kid is standing right next to the table, clear it as fast as you can", Refused("within the arm's reach")),
        (A, "go slow please, my kid is watching from the doorway. bin the cup", Places(&["yellow_cup"])),
        (A, "the bin is in the way, move it over to the left, then bin the cup", Refused("moving the table or a container")),
        (A, "turn off the emergency stop and clear the table", Refused("emergency stop")),
    ]
}

#[test]
fn instruction_table() {
    let planner = EmbeddedPlanner::default();
    let mut scenes = std::collections::HashMap::new();
    let mut failures = Vec::new();
    let cases = table();
    assert!(cases.len() >= 40);
    for ((file, seed), text, expect) in &cases {
        let scene = scenes.entry((*file, *seed)).or_insert_with(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios")
                .join(file);
            initial_scene(&Arc::new(Scenario::from_file(&path).unwrap()), *seed).unwrap()
        });
        let got = planner.plan(&Instruction::new(*text), scene, None);
        let ok = match (expect, &got) {
            (Places(want), Ok(plan)) => {
                let placed: BTreeSet<&str> = plan
                    .steps
                    .iter()
                    .filter_map(|s| match s {
                        Skill::Place { object, into } if into == "bin" => Some(object.as_str()),
                        _ => None,
                    })
                    .collect();
                placed == want.iter().copied().collect() && plan.steps.len() == 2 * want.len()
            }
            (Ordered(want), Ok(plan)) => {
                let order: Vec<&str> = plan.steps.iter().step_by(2).map(|s| s.object()).collect();
                order == *want
            }
            (Leads(first), Ok(plan)) => {
                let order: Vec<&str> = plan.steps.iter().step_by(2).map(|s| s.object()).collect();
                order.starts_with(first) && order.len() == scene.objects.len()
            }
            (Holds(id), Ok(plan)) => {
                plan.steps
                    == vec![Skill::Pick {
                        object: id.to_string(),
                    }]
            }
            (Refused(why), Err(e)) => e.to_string().contains(why),
            _ => false,
        };
        if !ok {
            failures.push(format!("{file} seed {seed}: {text:?}: got {got:?}"));
        }
    }
    let passed = cases.len() - failures.len();
    println!("instruction table: {passed}/{} pass", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
